// The PostgreSQL store against the store contract, on a real server.
import { afterAll, beforeAll } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { freshDatabase, sharedPostgres, sql } from '../helpers/postgres.js';
import { removeTempDirs, tempHome } from '../vault/helpers.js';
import { storeContract } from './contract.js';

let adminUrl: string;
beforeAll(async () => {
  adminUrl = await sharedPostgres();
});
afterAll(removeTempDirs);

storeContract('postgres', {
  async fresh() {
    const url = await freshDatabase(adminUrl);
    const home = await tempHome();
    const quiet = () => undefined;
    return {
      open: () => openStore({ store: url, home, env: { KEYGATE_PASSPHRASE: 'right one' }, stderr: quiet }),
      wrongKey: () => openStore({ store: url, home, env: { KEYGATE_PASSPHRASE: 'wrong one' }, stderr: quiet }),
      // Everything the database holds in keygate's tables, as text.
      raw: async () => {
        const rows = await sql(
          url,
          `SELECT 'config' AS t, row_to_json(c)::text AS v FROM keygate_config c
                                     UNION ALL SELECT 'record', row_to_json(r)::text FROM (SELECT kind, provider, name, doc FROM keygate_records ORDER BY kind, provider, name) r`,
        );
        return rows.map((r) => `${r.t} ${r.v}`).join('\n');
      },
    };
  },
});
