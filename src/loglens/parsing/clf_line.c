/* One access-log line to its fields (see clf_line.h). */
#define _GNU_SOURCE /* strtod_l */
#include "clf_line.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

/* Durations are read in the C locale, whatever LC_NUMERIC the process set (in de_DE, strtod stops at
 * the "." of "0.25"). */
static locale_t c_locale;

int clf_line_init(void) {
    if (c_locale == (locale_t)0)
        c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    return c_locale != (locale_t)0;
}

static inline int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static inline int is_alpha(uint8_t c) { return (uint8_t)((c | 0x20) - 'a') < 26; }

static inline int32_t find(const uint8_t *s, int32_t from, int32_t n, uint8_t c) {
    const uint8_t *p = memchr(s + from, c, (size_t)(n - from));
    return p ? (int32_t)(p - s) : -1;
}

static int two_digits(const uint8_t *s) {
    return is_digit(s[0]) && is_digit(s[1]) ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Event times loglens keeps: from the epoch up to 10000-01-01 UTC (timestamps.py END_MICROS). */
#define END_SECONDS INT64_C(253402300800)

/* A valid date and time (years 1000-9999, as polars reads them) to microseconds since the epoch,
 * UTC; 0 when any part is out of range (two_digits gives -1 for non-digits), or the time in UTC is
 * outside the times kept (the regexes then count the line as a bad timestamp). */
static int civil_micros(int century, int years, int month, int day, int hour, int minute, int second,
                        int64_t micros, int64_t zone_seconds, int64_t *out) {
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (century < 10 || years < 0 || month < 1 || month > 12 || hour < 0 || hour > 23 || minute < 0
        || minute > 59 || second < 0 || second > 59)
        return 0;
    int year = century * 100 + years;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day < 1 || day > DAYS[month - 1] + (month == 2 && leap))
        return 0;
    int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
                      - zone_seconds;
    if (seconds < 0 || seconds >= END_SECONDS)
        return 0;
    *out = seconds * 1000000 + micros;
    return 1;
}

/* A zone offset `+hh` `mm` in seconds (hours up to 23); 0 for anything else. */
static int zone_offset(uint8_t sign, const uint8_t *hours, const uint8_t *minutes, int64_t *out) {
    int h = two_digits(hours), m = two_digits(minutes);
    if ((sign != '+' && sign != '-') || h < 0 || h > 23 || m < 0 || m > 59)
        return 0;
    *out = (int64_t)(h * 3600 + m * 60) * (sign == '+' ? 1 : -1);
    return 1;
}

/* `dd/Mon/yyyy:HH:MM:SS +hhmm` (26 bytes) to microseconds since the epoch, UTC; 0 if it is not
 * exactly that shape with valid values (the regexes then read it, in whatever shape it has). */
static int clf_time(const uint8_t *t, int32_t len, int64_t *out) {
    static const char MONTHS[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int64_t zone;
    if (len != 26 || t[2] != '/' || t[6] != '/' || t[11] != ':' || t[14] != ':' || t[17] != ':'
        || t[20] != ' ' || !zone_offset(t[21], t + 22, t + 24, &zone))
        return 0;
    int month = 0;
    for (int m = 0; m < 12; m++) {
        if (memcmp(t + 3, MONTHS + 3 * m, 3) == 0) {
            month = m + 1;
            break;
        }
    }
    return civil_micros(two_digits(t + 7), two_digits(t + 9), month, two_digits(t), two_digits(t + 12),
                        two_digits(t + 15), two_digits(t + 18), 0, zone, out);
}

/* `yyyy-mm-ddTHH:MM:SS[.f]` with 1-6 fraction digits and a zone `Z`, `+hh:mm` or `+hhmm`, to
 * microseconds since the epoch, UTC; 0 for anything else (a space for `T`, a comma, more digits, no
 * zone: the regexes read those, in the configured zone where there is none). */
static int iso_time(const uint8_t *t, int32_t len, int64_t *out) {
    int64_t micros = 0, zone = 0;
    int32_t i = 19;
    if (len < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':')
        return 0;
    if (t[i] == '.') {
        int digits = 0;
        for (i++; i < len && is_digit(t[i]) && digits < 7; i++, digits++)
            micros = micros * 10 + (t[i] - '0');
        if (digits == 0 || digits > 6)
            return 0;
        for (; digits < 6; digits++)
            micros *= 10;
    }
    if (i == len - 1 && t[i] == 'Z')
        zone = 0;
    else if (!((i == len - 6 && t[i + 3] == ':') || i == len - 5)
             || !zone_offset(t[i], t + i + 1, t + len - 2, &zone))
        return 0;
    return civil_micros(two_digits(t), two_digits(t + 2), two_digits(t + 5), two_digits(t + 8),
                        two_digits(t + 11), two_digits(t + 14), two_digits(t + 17), micros, zone, out);
}

/* ` "` then a quoted field without quotes, from `i`: its span, and where it ends (-1: not there). */
static int32_t quoted(const uint8_t *s, int32_t i, int32_t n, Span *span) {
    if (n - i < 2 || s[i] != ' ' || s[i + 1] != '"')
        return -1;
    int32_t end = find(s, i + 2, n, '"');
    if (end < 0)
        return -1;
    *span = (Span){i + 2, end - i - 2};
    return end + 1;
}

/* Spans are relative to the line. Each step mirrors a piece of the regexes in access.py. */
int clf_parse_line(const uint8_t *s, int32_t n, int shapes, Fields *f) {
    int32_t i, j, k;
    /* ^(?P<client>[^ ]+) [^ ]+ (?P<user>[^ ]+) */
    j = find(s, 0, n, ' ');
    if (j <= 0)
        return 0;
    f->spans[COL_CLIENT] = (Span){0, j};
    i = j + 1;
    j = find(s, i, n, ' ');
    if (j <= i)
        return 0;
    i = j + 1;
    j = find(s, i, n, ' ');
    if (j <= i)
        return 0;
    f->spans[COL_USER] = (Span){i, j - i};
    i = j + 1;
    /* \[(?P<ts>[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[^\]]+)\] " (or the ISO time): it ends at the first ] */
    if (i >= n || s[i] != '[')
        return 0;
    j = find(s, i + 1, n, ']');
    if (j < 0 || n - j < 3 || s[j + 1] != ' ' || s[j + 2] != '"')
        return 0;
    if (!(shapes & TIME_ISO ? iso_time : clf_time)(s + i + 1, j - i - 1, &f->ts_us))
        return 0;
    i = j + 3;
    /* (?P<method>[A-Za-z]+) (?P<path>[^ "]*) (?P<protocol>HTTP/[0-9.]+)" */
    for (j = i; j < n && is_alpha(s[j]); j++) {
    }
    if (j == i || j >= n || s[j] != ' ')
        return 0;
    f->spans[COL_METHOD] = (Span){i, j - i};
    i = j + 1;
    for (j = i; j < n && s[j] != ' ' && s[j] != '"'; j++) {
    }
    if (j >= n || s[j] != ' ')
        return 0;
    /* Paths not starting with one "/" get their section from fields.py's rule: left to the regexes. */
    if (j == i || s[i] != '/' || (j - i > 1 && s[i + 1] == '/'))
        return 0;
    f->spans[COL_PATH] = (Span){i, j - i};
    for (k = i + 1; k < j && s[k] != '/' && s[k] != '?' && s[k] != '#' && s[k] != '\t'; k++) {
    }
    f->spans[COL_SECTION] = (Span){i, k - i}; /* "/" + first segment: a prefix of the path */
    i = j + 1;
    if (n - i < 6 || memcmp(s + i, "HTTP/", 5) != 0)
        return 0;
    for (j = i + 5; j < n && (is_digit(s[j]) || s[j] == '.'); j++) {
    }
    if (j == i + 5 || j >= n || s[j] != '"')
        return 0;
    f->spans[COL_PROTOCOL] = (Span){i, j - i};
    i = j + 1;
    /*  (?P<status>[0-9]{3}) (?P<bytes>[0-9]+|-) */
    if (n - i < 6 || s[i] != ' ' || s[i + 4] != ' ' || two_digits(s + i + 1) < 0 || !is_digit(s[i + 3]))
        return 0;
    f->status = (int16_t)(two_digits(s + i + 1) * 10 + (s[i + 3] - '0'));
    i += 5;
    if (s[i] == '-') {
        f->bytes = 0;
        j = i + 1;
    } else {
        int64_t value = 0;
        for (j = i; j < n && is_digit(s[j]); j++) {
            if (j - i == 18)
                return 0; /* may not fit in an int64: the regexes decide */
            value = value * 10 + (s[j] - '0');
        }
        if (j == i)
            return 0;
        f->bytes = value;
    }
    i = j;
    if (i == n)
        return shapes & SHAPE_COMMON;
    /*  "(?P<referer>[^"]*)" "(?P<agent>[^"]*)" */
    i = quoted(s, i, n, &f->spans[COL_REFERER]);
    if (i < 0 || (i = quoted(s, i, n, &f->spans[COL_AGENT])) < 0)
        return 0;
    if (i == n)
        return shapes & SHAPE_COMBINED;
    /*  (?P<duration>[0-9]+(?:\.[0-9]+)?)$ */
    if (!(shapes & SHAPE_DURATION) || s[i] != ' ')
        return 0;
    i++;
    for (j = i; j < n && is_digit(s[j]); j++) {
    }
    if (j == i)
        return 0;
    if (j < n && s[j] == '.') {
        for (k = j + 1; k < n && is_digit(s[k]); k++) {
        }
        if (k == j + 1)
            return 0;
        j = k;
    }
    if (j != n || j - i > 40)
        return 0;
    char number[48];
    memcpy(number, s + i, (size_t)(j - i));
    number[j - i] = '\0';
    f->duration = strtod_l(number, NULL, c_locale); /* correctly rounded, as polars' cast */
    return SHAPE_DURATION;
}
