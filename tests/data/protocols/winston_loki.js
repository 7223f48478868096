// Sends log lines to a Loki push URL with winston-loki, Loki's Node.js client: protobuf, snappy-compressed.
// node winston_loki.js URL COUNT: COUNT lines under the labels {app="shop", env="prod"}, then flushes and
// exits 0 once every batch was answered, 1 if the transport reported an error.
const winston = require('winston')
const LokiTransport = require('winston-loki')

const [url, count] = process.argv.slice(2)
let failed = false
const transport = new LokiTransport({
  host: url.replace(/\/loki\/api\/v1\/push$/, ''),
  labels: { app: 'shop', env: 'prod' },
  json: false,
  interval: 0.2,
  onConnectionError: (err) => { failed = true; console.error(`connection error: ${err}`) }
})
if (transport.batcher.contentType !== 'application/x-protobuf') {
  console.error(`winston-loki would send ${transport.batcher.contentType}: snappy is not installed`)
  process.exit(2)
}
const logger = winston.createLogger({ transports: [transport] })
for (let i = 0; i < Number(count); i++) {
  const level = i % 5 === 0 ? 'error' : 'info'
  logger.log(level, `${level.toUpperCase()} ${new Date().toISOString()} order ${i} checked out`)
}
transport.flush().then(() => transport.close()).then(() => process.exit(failed ? 1 : 0))
