import 'reflect-metadata';
import { ConfigValidationError, loadConfigFromProcess } from '@troupe/config';
import { createApp } from './app.factory';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfigFromProcess();
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }

  const app = await createApp(config);
  await app.listen({ host: config.http.host, port: config.http.port });
  const logger = app.getHttpAdapter().getInstance().log;
  logger.info({ url: await app.getUrl(), roles: [...config.roles] }, 'troupe server listening');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error('troupe server failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
