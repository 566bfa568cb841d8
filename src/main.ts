/** The process: configuration -> parts opened (`compose.ts`) -> listen; signals -> graceful shutdown. */
import { ConfigError, loadConfig } from './config/config.js';
import { openApp } from './server/compose.js';
import { createLogger } from './server/logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`onair: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);

  // A library promise nobody awaited must not take the whole service down with it.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

  let app;
  try {
    app = await openApp({ config, log });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`onair: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const address = await app.listen();
  const scheme = app.tls ? 'https' : 'http';
  log.info(`onair serving ${scheme}://localhost:${address.port}/<scheduleUID> (socket.io path ${config.socketPath})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // SHUTDOWN_SPREAD_MS, below the timeout by configuration, is waited out inside app.close().
    log.info({ signal, spreadMs: config.shutdownSpreadMs, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`onair: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
