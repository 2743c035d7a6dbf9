// Opening a URL for the user, only when asked (`login` without --no-browser, `install`, or the
// library's `openBrowser: true`).

/**
 * Opens the URL with `open` (xdg-open, open, start), or with the command in BROWSER when set (the
 * convention of xdg-utils and Python's webbrowser; tests point it at a browser they control). Any
 * failure (no display, no such command, a non-zero exit) is announced and the login keeps waiting:
 * the URL is already shown.
 */
export async function openBrowser(url: string, env: NodeJS.ProcessEnv, stderr: (text: string) => void): Promise<void> {
  const browser = env.BROWSER?.trim();
  const failed = (why: string) => stderr(`keygate: could not open a browser (${why}); open the URL above yourself\n`);
  try {
    const { default: open } = await import('open');
    const opening = open(url, { wait: false, ...(browser ? { app: { name: browser } } : {}) });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), 3000)));
    const child = await Promise.race([opening, timeout]).finally(() => clearTimeout(timer));
    child.once('error', (err) => failed(err.message));
    // xdg-open without a display, or a browser command that fails, says so only by its exit code.
    child.once('exit', (code) => {
      if (code) failed(`${browser ?? 'the opener'} exited with ${code}`);
    });
    child.unref();
  } catch (err) {
    failed(err instanceof Error ? err.message : String(err));
  }
}
