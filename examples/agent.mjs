// The agent the orchestrator runs: it calls Discord with the placeholder in its environment, like
// any program given a token would. keygate's proxy swaps in the real token on the way out.
const placeholder = process.env.DISCORD_ACCESS_TOKEN;
const response = await fetch('https://discord.com/api/v10/users/@me', { headers: { authorization: `Bearer ${placeholder}` } });
const me = /** @type {{ username?: string }} */ (await response.json());
console.log(`agent: HTTP ${response.status}, I am ${me.username}; my token variable holds ${placeholder?.slice(0, 5)}… (a placeholder)`);
process.exitCode = response.ok ? 0 : 1;
