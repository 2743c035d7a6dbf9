// keygate's own secrets in its environment (KEYGATE_PASSPHRASE, <PROVIDER>_CLIENT_SECRET) are copied
// into a private object for the vault and the OAuth client, and deleted from process.env, so no
// process keygate starts later inherits them by accident and nothing that dumps process.env sees
// them. Linux still shows the environment keygate was *started* with in /proc/<pid>/environ for the
// life of the process (it is a copy the kernel keeps; Node 20 cannot replace it): inside the sandbox
// that file does not exist, without it a same-user process can read it (docs/sandbox.md).

const SECRET_VARIABLE = /^(KEYGATE_PASSPHRASE|[A-Z][A-Z0-9_]*_CLIENT_SECRET)$/;

/** Returns a copy of `env` with everything, and deletes the secret variables from `env` itself. */
export function takeOwnSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of Object.keys(env)) if (SECRET_VARIABLE.test(name)) delete env[name];
  return copy;
}
