// Run directories live in a private per-user base, and stale cleanup deletes nothing it does not own.
// Issue 11's attack: another local user planted `$TMPDIR/keygate-run-<dead pid>-*` and swapped it
// between a directory and a symlink while keygate deleted it recursively by path, and so emptied the
// victim's files. Here a real second user (created with useradd: CI runs as root) does the same,
// in $TMPDIR and everywhere else keygate looks, while runs start and clean up.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_FILE_NAMES } from '../../src/run/rundir.js';
import { openVault } from '../../src/vault/index.js';
import { cliEnv, runCli, tempHome } from '../helpers/cli.js';

const ATTACKER = 'keygate-attacker';
/** Above any pid this kernel hands out (pid_max ≤ 2^22), so never alive. */
const DEAD_PID = 4194304 + 7;
let attacker: { uid: number; gid: number };
let home: string;
let env: NodeJS.ProcessEnv;
let victim: string;
let tmp: string;
const dirs: string[] = [];

/** The attacker's uid/gid, creating the user when it does not exist (needs root; .ci/run runs as root). */
function attackerUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, ATTACKER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    if (process.getuid?.() !== 0)
      throw new Error(`this test needs a second local user: run as root, or create it: useradd --system ${ATTACKER}`);
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ATTACKER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

beforeAll(async () => {
  attacker = attackerUser();
  home = tempHome();
  victim = tempHome('keygate-victim-');
  dirs.push(home, victim);
  fs.chmodSync(victim, 0o755);
  fs.writeFileSync(path.join(victim, 'canary'), 'keep me');
  fs.writeFileSync(path.join(victim, 'ca-bundle.pem'), 'keep me too: a name keygate writes');
  fs.mkdirSync(path.join(victim, 'vault'));
  fs.writeFileSync(path.join(victim, 'vault', 'master.key'), 'victim key');
  // A /tmp of the test's own (sticky, world-writable like /tmp): keygate processes of other test runs
  // on the same machine (older builds clean `$TMPDIR/keygate-run-*` by path) must not touch the plants.
  tmp = tempHome('keygate-tmp-');
  dirs.push(tmp);
  fs.chmodSync(tmp, 0o1777);
  env = cliEnv(home, { TMPDIR: tmp });
  const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' }, stderr: () => undefined, keychain: null });
  await vault.write({
    provider: 'discord',
    connection: 'default',
    tokens: {
      access_token: 'RunDirTestToken00000000000000',
      token_type: 'Bearer',
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      scopes: ['identify'],
    },
    account: { id: '1', name: 'alice' },
    status: 'connected',
    created_at: new Date().toISOString(),
  });
});

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function victimIntact(): void {
  expect(fs.readFileSync(path.join(victim, 'canary'), 'utf8')).toBe('keep me');
  expect(fs.readFileSync(path.join(victim, 'ca-bundle.pem'), 'utf8')).toBe('keep me too: a name keygate writes');
  expect(fs.readFileSync(path.join(victim, 'vault', 'master.key'), 'utf8')).toBe('victim key');
}

describe('run directories', () => {
  it('are private (0700, owned by the user) under KEYGATE_HOME/run without a usable XDG_RUNTIME_DIR', async () => {
    const res = await runCli(['run', '--', 'sh', '-c', 'echo "$SSL_CERT_FILE"'], { env });
    expect(res.code).toBe(0);
    const file = res.stdout.trim();
    expect(path.dirname(path.dirname(file))).toBe(path.join(home, 'run'));
    const base = fs.lstatSync(path.join(home, 'run'));
    expect(base.mode & 0o777).toBe(0o700);
    expect(base.uid).toBe(process.getuid!());
    expect(fs.readdirSync(path.join(home, 'run'))).toEqual([]); // removed on exit
  });

  it("an attacker's race in $TMPDIR and planted entries in the base delete nothing outside keygate's own files", async () => {
    // 1. In $TMPDIR, as the other user: the entry flips between a directory and a symlink to the victim.
    const name = path.join(tmp, `keygate-run-${DEAD_PID}-race`);
    const swapper: ChildProcess = spawn(
      'runuser',
      [
        '-u',
        ATTACKER,
        '--',
        'sh',
        '-c',
        `while :; do mkdir "$1" && touch "$1/x"; rm -rf "$1"; ln -s "$2" "$1"; rm -f "$1"; done 2>/dev/null`,
        'sh',
        name,
        victim,
      ],
      { stdio: 'ignore' },
    );
    //    And a plain directory of theirs under the same pattern: no run may delete it either.
    const planted = path.join(tmp, `keygate-run-${DEAD_PID}-planted`);
    fs.mkdirSync(planted);
    fs.writeFileSync(path.join(planted, 'their-file'), 'theirs');
    fs.chownSync(planted, attacker.uid, attacker.gid);
    // 2. In the private base itself (as if an earlier bug had let something in): a symlink to the
    //    victim, a directory of the other user, one of ours with a file keygate never writes, one of
    //    ours with only keygate's files, and a name keygate never uses.
    const base = path.join(home, 'run');
    fs.symlinkSync(victim, path.join(base, `${DEAD_PID}-linked`));
    const theirs = path.join(base, `${DEAD_PID}-theirs`);
    fs.mkdirSync(theirs);
    fs.writeFileSync(path.join(theirs, 'ca-bundle.pem'), 'theirs');
    fs.chownSync(theirs, attacker.uid, attacker.gid);
    fs.chownSync(path.join(theirs, 'ca-bundle.pem'), attacker.uid, attacker.gid);
    const mixed = path.join(base, `${DEAD_PID}-mixedx`);
    fs.mkdirSync(mixed);
    fs.writeFileSync(path.join(mixed, 'ca-bundle.pem'), 'stale');
    fs.writeFileSync(path.join(mixed, 'notes.txt'), 'not keygate’s');
    const stale = path.join(base, `${DEAD_PID}-stalex`);
    fs.mkdirSync(stale);
    for (const file of RUN_FILE_NAMES) fs.writeFileSync(path.join(stale, file), 'stale');
    const other = path.join(base, 'not-a-run');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'ca-bundle.pem'), 'other');
    try {
      for (let batch = 0; batch < 6; batch++) {
        const runs = await Promise.all(Array.from({ length: 5 }, () => runCli(['run', '--', 'true'], { env })));
        for (const run of runs) expect(run.code, run.stderr).toBe(0);
        victimIntact();
      }
    } finally {
      swapper.kill();
      await new Promise((resolve) => swapper.once('exit', resolve));
      fs.rmSync(name, { recursive: true, force: true });
    }
    victimIntact();
    expect(fs.readFileSync(path.join(planted, 'their-file'), 'utf8')).toBe('theirs');
    fs.rmSync(planted, { recursive: true });
    expect(fs.readlinkSync(path.join(base, `${DEAD_PID}-linked`))).toBe(victim);
    expect(fs.readFileSync(path.join(theirs, 'ca-bundle.pem'), 'utf8')).toBe('theirs');
    expect(fs.readdirSync(mixed)).toEqual(['notes.txt']);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.readFileSync(path.join(other, 'ca-bundle.pem'), 'utf8')).toBe('other');
  }, 120_000);

  it('an XDG_RUNTIME_DIR owned by someone else is not used; a base that is a symlink is refused', async () => {
    const foreign = tempHome('keygate-xdg-');
    dirs.push(foreign);
    fs.chmodSync(foreign, 0o700);
    fs.chownSync(foreign, attacker.uid, attacker.gid);
    const res = await runCli(['run', '--', 'sh', '-c', 'echo "$SSL_CERT_FILE"'], { env: { ...env, XDG_RUNTIME_DIR: foreign } });
    expect(res.code).toBe(0);
    expect(res.stdout.startsWith(path.join(home, 'run'))).toBe(true);
    expect(fs.readdirSync(foreign)).toEqual([]);

    const ours = tempHome('keygate-xdg-');
    dirs.push(ours);
    fs.chmodSync(ours, 0o700);
    fs.symlinkSync(victim, path.join(ours, 'keygate'));
    const refused = await runCli(['run', '--', 'true'], { env: { ...env, XDG_RUNTIME_DIR: ours } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`keygate: ${path.join(ours, 'keygate')} is not a directory owned by you (it is a symlink)`);
    victimIntact();

    fs.rmSync(path.join(ours, 'keygate'));
    const used = await runCli(['run', '--', 'sh', '-c', 'echo "$SSL_CERT_FILE"'], { env: { ...env, XDG_RUNTIME_DIR: ours } });
    expect(used.stdout.startsWith(path.join(ours, 'keygate'))).toBe(true);
    expect(fs.statSync(path.join(ours, 'keygate')).mode & 0o777).toBe(0o700);
  });
});
