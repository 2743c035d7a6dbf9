// Vitest global set-up: one PostgreSQL server for the whole run (test files make their own
// databases on it). If it cannot start, every test that needs it fails with the reason: no skipping.
import type { TestProject } from 'vitest/node';
import { startPostgres, type Postgres } from './helpers/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    postgresError: string;
  }
}

let server: Postgres | undefined;

export async function setup(project: TestProject): Promise<void> {
  try {
    server = await startPostgres();
    project.provide('postgresUrl', server.adminUrl);
    project.provide('postgresError', '');
  } catch (err) {
    project.provide('postgresUrl', '');
    project.provide('postgresError', (err as Error).message);
  }
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
