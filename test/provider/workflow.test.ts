// The override workflow users know: dump the bundled definition, edit it, save it as an override,
// see it listed as custom, and the change in effect; `validate` listing every problem; and a broken
// user file that takes out only its own provider.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

const oneLineError = /^keygate: .+ — .+\n$/;

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(() => session.close());

function writeUserFile(home: string, name: string, content: string): string {
  const file = path.join(home, 'providers', `${name}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

describe('inspect → edit → save → list → in effect', () => {
  it('a full copy of the bundled definition, one field edited, is accepted, listed as custom and used by login', async () => {
    const home = tempHome();
    const env = session.envFor(home);
    // 1. dump the bundled definition
    const dumped = await runCli(['providers', 'inspect', 'discord'], { env });
    expect(dumped.code, dumped.stderr).toBe(0);
    // 2. edit one field (as a user would in an editor: the text, not a re-serialisation)
    const edited = dumped.stdout.replace(/"default_scopes": \[[^\]]*\]/, '"default_scopes": ["identify", "guilds"]');
    expect(edited).not.toBe(dumped.stdout);
    // 3. save it as an override
    const file = writeUserFile(home, 'discord', edited);
    const validated = await runCli(['providers', 'validate', file], { env });
    expect(validated.code, validated.stdout + validated.stderr).toBe(0);
    // 4. see it listed as custom
    const listed = await runCli(['providers', 'list'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^discord\s+Discord\s+custom\s+oauth2\s+ok$/m);
    const json = JSON.parse((await runCli(['providers', 'list', '--json'], { env })).stdout);
    expect(json.providers[0]).toMatchObject({
      name: 'discord',
      source: 'custom',
      files: [expect.stringMatching(/providers\/discord\.json$/), file],
    });
    // 5. the change is in effect: login asks for (and records) exactly the edited default scopes
    const login = await session.login(home);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('(identify guilds)');
    expect((await runCli(['get', 'discord', '--field', 'scopes'], { env })).stdout).toBe('identify guilds\n');
    // and inspect now shows the edited definition, still a valid file
    const again = JSON.parse((await runCli(['providers', 'inspect', 'discord'], { env })).stdout);
    expect(again.oauth2.default_scopes).toEqual(['identify', 'guilds']);
  });
});

describe('providers validate', () => {
  it('lists every problem, one per line with its JSON path, and exits 4', async () => {
    const dir = tempHome();
    const file = path.join(dir, 'acme.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        display_nmae: 'Acme',
        auth_type: 'oauth2',
        oauth2: {
          authorize_url: 'http://acme.test/authorize',
          token_url: 'https://acme.test/token',
          client_auth: 'basic',
          pkce: 'yes',
          default_scopes: ['read', 'bogus_scope', 'wirte'],
          scopes: { read: 'Read things', write: 'Write things' },
        },
        api: { base_url: 'https://api.acme.test', hosts: ['api.acme.test'] },
        injection: { header: 'Authorization', format: 'Bearer {token}', placeholder_env: 'ACME_ACCESS_TOKEN' },
      }),
    );
    const r = await runCli(['providers', 'validate', file], { env: cliEnv(tempHome()) });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(oneLineError);
    expect(r.stderr).toContain(`${file}: 6 problems`);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      `${file}: $.display_nmae is not a known field (did you mean "display_name"?)`,
      `${file}: $.oauth2.authorize_url expected an https:// URL, got "http://acme.test/authorize"`,
      `${file}: $.oauth2.pkce expected a boolean, got string "yes"`,
      `${file}: $.display_name is required but missing`,
      `${file}: $.oauth2.default_scopes[1] "bogus_scope" is not in $.oauth2.scopes`,
      `${file}: $.oauth2.default_scopes[2] "wirte" is not in $.oauth2.scopes (did you mean "write"?)`,
    ]);
    const json = JSON.parse((await runCli(['providers', 'validate', file, '--json'], { env: cliEnv(tempHome()) })).stdout);
    expect(json.valid).toBe(false);
    expect(json.problems).toHaveLength(6);
    expect(json.problems[4]).toBe('$.oauth2.default_scopes[1] "bogus_scope" is not in $.oauth2.scopes');
  });

  it('an override whose default scope is not in the bundled scope list is refused', async () => {
    const home = tempHome();
    const file = writeUserFile(home, 'discord', JSON.stringify({ oauth2: { default_scopes: ['identify', 'bogus_scope'] } }));
    const r = await runCli(['providers', 'validate', file], { env: cliEnv(home) });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe(`${file}: $.oauth2.default_scopes[1] "bogus_scope" is not in $.oauth2.scopes\n`);
    const login = await runCli(['login', 'discord', '--no-browser'], { env: cliEnv(home) });
    expect(login.code).toBe(4);
    expect(login.stderr).toContain('"bogus_scope" is not in $.oauth2.scopes');
  });
});

describe('providers validate: tool references', () => {
  it('tool scopes must be in the scope list, and a replacement must be a tool', async () => {
    const home = tempHome();
    const file = writeUserFile(
      home,
      'discord',
      JSON.stringify({
        tools: {
          my_tool: {
            description: 'Mine',
            path: '/users/@me',
            scopes: ['identfy'],
            optional_scopes: { emial: 'adds email' },
            auth_when: [{ params: { x: '1' }, auth: 'user', scopes: ['guilds', 'bogus'] }],
            deprecated: { replaced_by: 'get_my_usr' },
          },
        },
      }),
    );
    const r = await runCli(['providers', 'validate', file], { env: cliEnv(home) });
    expect(r.code).toBe(4);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      `${file}: $.tools.my_tool.deprecated.replaced_by "get_my_usr" is not a tool of this provider (did you mean "get_my_user"?)`,
      `${file}: $.tools.my_tool.scopes[0] "identfy" is not in $.oauth2.scopes (did you mean "identify"?)`,
      `${file}: $.tools.my_tool.optional_scopes.emial is not in $.oauth2.scopes (did you mean "email"?)`,
      `${file}: $.tools.my_tool.auth_when[0].scopes[1] "bogus" is not in $.oauth2.scopes`,
    ]);
  });
});

describe('a broken user file takes out only its own provider', () => {
  it('list marks it with its first problem, other providers keep working, commands about it exit 4', async () => {
    const home = tempHome();
    const env = session.envFor(home);
    expect((await session.login(home)).code).toBe(0);
    const file = writeUserFile(home, 'acme', JSON.stringify({ display_name: 'Acme', auth_type: 'oauth2', oauth2: { pkce: 'yes' } }));

    const listed = await runCli(['providers', 'list'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^acme\s+-\s+custom\s+-\s+broken: \$\.oauth2\.pkce expected a boolean, got string "yes"$/m);
    expect(listed.stdout).toMatch(/^discord\s+Discord\s+bundled\s+oauth2\s+ok$/m);
    const json = JSON.parse((await runCli(['providers', 'list', '--json'], { env })).stdout);
    expect(json.providers[0]).toEqual({
      name: 'acme',
      display_name: null,
      source: 'custom',
      auth_type: null,
      files: [file],
      error: '$.oauth2.pkce expected a boolean, got string "yes"',
    });

    // Other providers: get, list, run.
    expect(await runCli(['get', 'discord', '--field', 'status'], { env })).toMatchObject({ code: 0, stdout: 'connected\n' });
    expect((await runCli(['list'], { env })).code).toBe(0);
    const run = await runCli(
      ['run', '--', process.execPath, '-e', "fetch('https://discord.com/api/v10/users/@me').then((r) => console.log(r.status))"],
      { env },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('200\n');
    expect(run.stderr).toContain('keygate: provider acme is skipped:');

    // The broken one: exit 4, naming the file.
    for (const args of [
      ['get', 'acme', '--field', 'status'],
      ['providers', 'inspect', 'acme'],
      ['login', 'acme', '--no-browser'],
      ['run', '--connection', 'acme/default', '--', 'true'],
    ]) {
      const r = await runCli(args, { env });
      expect(r.code, args.join(' ')).toBe(4);
      expect(r.stderr).toMatch(oneLineError);
      expect(r.stderr).toContain(`${file}: $.oauth2.pkce expected a boolean`);
    }
  });
});

describe('providers init', () => {
  it('writes a skeleton with $schema that validates, is listed, and is never overwritten without --force', async () => {
    const home = tempHome();
    const env = cliEnv(home);
    const r = await runCli(['providers', 'init', 'my-api'], { env });
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(home, 'providers', 'my-api.json');
    expect(r.stdout).toBe(`${file}\n`);
    const body = JSON.parse(fs.readFileSync(file, 'utf8'));
    // The schema the editor loads is the bundled one, reachable from the file.
    expect(fs.existsSync(new URL(body.$schema))).toBe(true);
    expect(body.injection.placeholder_env).toBe('MY_API_ACCESS_TOKEN');
    expect(JSON.stringify(body)).not.toMatch(/"https:\/\/(?![a-z]+\.example\.invalid\/)/);
    expect((await runCli(['providers', 'validate', file], { env })).code).toBe(0);
    expect((await runCli(['providers', 'list'], { env })).stdout).toMatch(/^my-api\s+My-api\s+custom\s+oauth2\s+ok$/m);

    const again = await runCli(['providers', 'init', 'my-api'], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists — edit it, or pass --force/);
    expect((await runCli(['providers', 'init', 'my-api', '--force'], { env })).code).toBe(0);

    const bundled = await runCli(['providers', 'init', 'discord'], { env });
    expect(bundled.code).toBe(2);
    expect(bundled.stderr).toContain('keygate providers inspect discord >');
    expect(fs.existsSync(path.join(home, 'providers', 'discord.json'))).toBe(false);
  });
});
