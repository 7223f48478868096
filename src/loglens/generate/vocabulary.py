"""The words realistic traffic is made of: agents, referrers, names, search terms, sections, probes.

All text is ASCII, without spaces in paths and without double quotes anywhere, so that a line's length in
characters is its length in bytes and every format can quote fields without escaping.
"""

from __future__ import annotations

METHODS: tuple[str, ...] = ("GET", "POST", "PUT", "DELETE", "HEAD")
PROTOCOLS: tuple[str, ...] = ("HTTP/1.1", "HTTP/2.0", "HTTP/1.0")
SITE = "https://www.example.com"

#: Shares of page views by browser and by operating system, worldwide, desktop + mobile + tablet:
#: StatCounter Global Stats, "Browser Market Share Worldwide" and "Operating System Market Share
#: Worldwide", February 2025, in whole percent. Smaller browsers and StatCounter's "Unknown" and other
#: systems are left out, except Linux, which gets 1 point of that remainder; the generator's shares are
#: of what is listed.
BROWSER_SHARES: dict[str, float] = {
    "Chrome": 66,
    "Safari": 18,
    "Edge": 5,
    "Firefox": 3,
    "Samsung Internet": 2,
    "Opera": 2,
}
OS_SHARES: dict[str, float] = {"Android": 46, "Windows": 25, "iOS": 18, "macOS": 6, "Linux": 1}

_CHROME = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0"
_WEBKIT = "AppleWebKit/605.1.15 (KHTML, like Gecko)"
_MAC = "Macintosh; Intel Mac OS X 10_15_7"
_WIN = "Windows NT 10.0; Win64; x64"
#: (user agent, browser, OS, share) of the agents people browse with, as of the month above. How a browser
#: splits over systems is ours; the shares add up to ``BROWSER_SHARES`` per browser and to ``OS_SHARES``
#: per system.
BROWSER_AGENTS: tuple[tuple[str, str, str, float], ...] = (
    (f"Mozilla/5.0 (Linux; Android 10; K) {_CHROME} Mobile Safari/537.36", "Chrome", "Android", 42.5),
    (f"Mozilla/5.0 ({_WIN}) {_CHROME} Safari/537.36", "Chrome", "Windows", 17.5),
    (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) {_WEBKIT} CriOS/133.0.6943.120 "
        "Mobile/15E148 Safari/604.1",
        "Chrome",
        "iOS",
        3,
    ),
    (f"Mozilla/5.0 ({_MAC}) {_CHROME} Safari/537.36", "Chrome", "macOS", 2.5),
    (f"Mozilla/5.0 (X11; Linux x86_64) {_CHROME} Safari/537.36", "Chrome", "Linux", 0.5),
    (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) {_WEBKIT} Version/18.3 Mobile/15E148 "
        "Safari/604.1",
        "Safari",
        "iOS",
        13,
    ),
    (
        f"Mozilla/5.0 (iPad; CPU OS 18_3 like Mac OS X) {_WEBKIT} Version/18.3 Mobile/15E148 Safari/604.1",
        "Safari",
        "iOS",
        2,
    ),
    (f"Mozilla/5.0 ({_MAC}) {_WEBKIT} Version/18.3 Safari/605.1.15", "Safari", "macOS", 3),
    (f"Mozilla/5.0 ({_WIN}) {_CHROME} Safari/537.36 Edg/133.0.0.0", "Edge", "Windows", 4.7),
    (f"Mozilla/5.0 ({_MAC}) {_CHROME} Safari/537.36 Edg/133.0.0.0", "Edge", "macOS", 0.3),
    (f"Mozilla/5.0 ({_WIN}; rv:135.0) Gecko/20100101 Firefox/135.0", "Firefox", "Windows", 1.8),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:135.0) Gecko/20100101 Firefox/135.0",
        "Firefox",
        "macOS",
        0.2,
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0",
        "Firefox",
        "Linux",
        0.5,
    ),
    ("Mozilla/5.0 (Android 14; Mobile; rv:135.0) Gecko/135.0 Firefox/135.0", "Firefox", "Android", 0.5),
    (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
        "Samsung Internet",
        "Android",
        2,
    ),
    (
        f"Mozilla/5.0 ({_WIN}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36 "
        "OPR/117.0.0.0",
        "Opera",
        "Windows",
        1,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 "
        "Mobile Safari/537.36 OPR/87.0.0.0",
        "Opera",
        "Android",
        1,
    ),
)
#: Crawlers and scripts: (user agent, weight) within their kind.
BOT_AGENTS: tuple[tuple[str, float], ...] = (
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 40),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", 20),
    ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", 8),
    ("Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", 6),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", 10),
    ("Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", 8),
    ("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", 4),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        4,
    ),
)
TOOL_AGENTS: tuple[tuple[str, float], ...] = (
    ("curl/8.5.0", 25),
    ("python-requests/2.31.0", 20),
    ("Go-http-client/2.0", 12),
    ("Wget/1.21.4", 6),
    ("okhttp/4.12.0", 15),
    ("kube-probe/1.29", 8),
    ("Prometheus/2.51.0", 5),
    ("Apache-HttpClient/4.5.14 (Java/17.0.10)", 9),
)
#: Agents of the ``scan`` scenario; never used by ordinary clients.
SCANNER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    "sqlmap/1.8.3#stable (https://sqlmap.org)",
    "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000562)",
    "Mozilla/5.0 zgrab/0.x",
)
#: Paths a vulnerability scanner probes.
PROBE_PATHS: tuple[str, ...] = (
    "/.env",
    "/.git/config",
    "/wp-login.php",
    "/wp-admin/setup-config.php",
    "/xmlrpc.php",
    "/phpmyadmin/index.php",
    "/pma/index.php",
    "/admin/config.php",
    "/config.json",
    "/backup.zip",
    "/db.sql",
    "/server-status",
    "/actuator/env",
    "/cgi-bin/luci",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/.aws/credentials",
    "/owa/auth/logon.aspx",
    "/solr/admin/info/system",
    "/console/login/LoginForm.jsp",
    "/HNAP1/",
    "/boaform/admin/formLogin",
    "/wp-content/plugins/revslider/temp/update_extract/revslider/info.php",
    "/index.php?s=/Index/think/app/invokefunction",
    "/.DS_Store",
    "/api/v1/../../../../etc/passwd",
)
EXTERNAL_REFERERS: tuple[tuple[str, float], ...] = (
    ("https://www.google.com/", 55),
    ("https://www.bing.com/", 10),
    ("https://duckduckgo.com/", 6),
    ("https://t.co/", 5),
    ("https://www.facebook.com/", 6),
    ("https://www.reddit.com/", 4),
    ("https://news.ycombinator.com/", 2),
    ("https://www.linkedin.com/", 3),
    ("android-app://com.google.android.gm/", 2),
)
FIRST_NAMES: tuple[str, ...] = (
    "james",
    "mary",
    "olivia",
    "liam",
    "noah",
    "emma",
    "ava",
    "lucas",
    "mia",
    "amelia",
    "ethan",
    "sofia",
    "mateo",
    "chloe",
    "aiden",
    "zoe",
    "leo",
    "nora",
    "hiro",
    "yuki",
    "ana",
    "ivan",
    "fatima",
    "omar",
)
LAST_NAMES: tuple[str, ...] = (
    "smith",
    "garcia",
    "chen",
    "kumar",
    "mueller",
    "rossi",
    "silva",
    "kim",
    "nowak",
)
TERMS: tuple[str, ...] = (
    "shoes",
    "red+dress",
    "laptop",
    "usb-c+cable",
    "coffee+grinder",
    "running+shoes",
    "desk+lamp",
    "headphones",
    "gift+card",
    "backpack",
    "winter+jacket",
    "phone+case",
    "yoga+mat",
    "monitor+27",
)
CATEGORIES: tuple[str, ...] = (
    "electronics",
    "books",
    "home",
    "garden",
    "toys",
    "sports",
    "fashion",
    "beauty",
    "grocery",
    "office",
)
WORDS: tuple[str, ...] = (
    "scaling",
    "postgres",
    "release",
    "notes",
    "how",
    "we",
    "cut",
    "latency",
    "guide",
    "migrating",
    "kubernetes",
    "observability",
    "pricing",
    "update",
    "holiday",
    "sale",
    "team",
    "story",
    "design",
)
# Section name, popularity weights per client kind (browser, bot, tool).
SECTIONS: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("/static", (300, 5, 2)),
    ("/api", (220, 2, 200)),
    ("/images", (150, 30, 1)),
    ("/products", (90, 200, 10)),
    ("/", (50, 40, 10)),
    ("/search", (40, 10, 5)),
    ("/blog", (35, 150, 3)),
    ("/favicon.ico", (15, 10, 0)),
    ("/cart", (25, 0, 0)),
    ("/login", (20, 2, 5)),
    ("/account", (18, 0, 0)),
    ("/docs", (15, 60, 8)),
    ("/checkout", (12, 0, 0)),
    ("/orders", (10, 0, 0)),
    ("/help", (8, 20, 0)),
    ("/news", (8, 40, 0)),
    ("/healthz", (0, 0, 150)),
    ("/about", (5, 15, 0)),
    ("/robots.txt", (0, 60, 1)),
    ("/feed.xml", (2, 30, 15)),
    ("/contact", (3, 5, 0)),
    ("/careers", (3, 8, 0)),
    ("/logout", (4, 0, 0)),
    ("/admin", (2, 0, 2)),
)
#: Sections whose requests carry the logged-in user.
AUTHED_SECTIONS = frozenset({"/api", "/cart", "/account", "/checkout", "/orders", "/logout", "/admin"})
