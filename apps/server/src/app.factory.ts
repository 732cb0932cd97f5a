import { randomUUID } from 'node:crypto';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  chooseRequestId,
  createLogger,
  MetricsRegistry,
  PinoNestLogger,
  requestContext,
} from '@troupe/common';
import { AppConfig } from '@troupe/config';
import { LogController } from 'fastify';
import type { Logger as Pino } from 'pino';
import { AppModule } from './app.module';
import { AllExceptionsFilter } from './http/all-exceptions.filter';
import { registerRawBodyParser } from './http/raw-body';

export interface CreateAppOptions {
  /** A logger to use instead of one built from config (tests pass a silent one). */
  logger?: Pino;
}

/** Builds the whole server for a config: used by main.ts, the dev launcher and the e2e tests alike. */
export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const pino = options.logger ?? createLogger({ level: config.log.level, pretty: config.log.pretty });
  const adapter = new FastifyAdapter({
    loggerInstance: pino,
    // One log line per request is written in onResponse below, with the route and the duration.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      chooseRequestId(req.headers['x-request-id'], randomUUID),
    bodyLimit: config.http.bodyLimitBytes,
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(pino),
    abortOnError: false,
  });

  const fastify = app.getHttpAdapter().getInstance();
  registerRawBodyParser(fastify);
  const metrics = app.get(MetricsRegistry);
  fastify.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    requestContext.run({ requestId: String(req.id) }, done);
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: req.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    pino.info(
      {
        reqId: req.id,
        method: req.method,
        url: req.url,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request completed',
    );
    done();
  });
  app.useGlobalFilters(new AllExceptionsFilter(app.get(HttpAdapterHost)));

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Troupe')
      .setDescription('Serve LLMs too big for one machine on Kubernetes LeaderWorkerSets.')
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A Troupe API key (troupe_…)' })
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs/json' });

  await app.init();
  return app;
}
