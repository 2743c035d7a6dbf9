// Bot and user credentials in one injection rule: each placeholder goes out with its own scheme
// (Bot or Bearer), a placeholder of one kind sent with the other's scheme is refused, never
// converted, and the rule for requests without Authorization when several credentials are selected.
import { describe, expect, it } from 'vitest';
import { InjectionRule, type RunCredential } from '../../src/proxy/rules.js';
import { credentials, discordProvider } from '../fixtures/proxy-harness.js';

const provider = { ...discordProvider, bot: { format: 'Bot {token}' } };
const [user, work] = credentials as [RunCredential, RunCredential];
const bot: RunCredential = {
  provider: 'discord',
  connection: 'bot',
  kind: 'bot',
  placeholder: 'kgph_discord_bot_00112233445566778899',
  envName: 'DISCORD_BOT_TOKEN',
};
const rule = new InjectionRule(provider, [user, work, bot]);

describe('bot and user credentials in one rule', () => {
  it('replaces each placeholder with its own kind, whatever the scheme case', () => {
    expect(rule.decide('/x', ['Authorization', `Bot ${bot.placeholder}`])).toEqual({ action: 'replace', credential: bot, index: 1 });
    expect(rule.decide('/x', ['authorization', `bot ${bot.placeholder}`])).toEqual({ action: 'replace', credential: bot, index: 1 });
    expect(rule.decide('/x', ['Authorization', `Bearer ${user.placeholder}`])).toEqual({ action: 'replace', credential: user, index: 1 });
    expect(rule.headerValue('b0t', 'bot')).toBe('Bot b0t');
    expect(rule.headerValue('us3r', 'user')).toBe('Bearer us3r');
    expect(rule.headerValue('us3r')).toBe('Bearer us3r');
  });

  it('refuses a bot placeholder sent as Bearer and a user placeholder sent as Bot', () => {
    expect(rule.decide('/x', ['Authorization', `Bearer ${bot.placeholder}`])).toEqual({
      action: 'refuse',
      reason: '$DISCORD_BOT_TOKEN is a bot token: send it as "Authorization: Bot $DISCORD_BOT_TOKEN"',
    });
    expect(rule.decide('/x', ['Authorization', `Bot ${user.placeholder}`])).toEqual({
      action: 'refuse',
      reason: '$DISCORD_ACCESS_TOKEN is a user token: send it as "Authorization: Bearer $DISCORD_ACCESS_TOKEN"',
    });
    expect(rule.decide('/x', ['Authorization', `Basic ${bot.placeholder}`]).action).toBe('refuse');
  });

  it('a bare placeholder gets its own scheme', () => {
    expect(rule.decide('/x', ['Authorization', bot.placeholder])).toEqual({ action: 'replace', credential: bot, index: 1 });
  });

  it('without Authorization: the only credential; else the default user connection; else refused', () => {
    // One credential of either kind: it is the one meant.
    expect(new InjectionRule(provider, [bot]).decide('/x', [])).toEqual({ action: 'add', credential: bot });
    expect(new InjectionRule(provider, [work]).decide('/x', [])).toEqual({ action: 'add', credential: work });
    // Several, with the default user connection among them: that one (a bot token is never added implicitly then).
    expect(rule.decide('/x', [])).toEqual({ action: 'add', credential: user });
    expect(new InjectionRule(provider, [bot, user]).decide('/x', [])).toEqual({ action: 'add', credential: user });
    // Several without a default user connection: keygate cannot tell which is meant.
    const ambiguous = new InjectionRule(provider, [work, bot]).decide('/x', []);
    expect(ambiguous).toEqual({
      action: 'refuse',
      reason:
        'the request has no Authorization header and this run has several discord credentials without a default one; send one of $DISCORD_ACCESS_TOKEN_WORK, $DISCORD_BOT_TOKEN',
    });
  });

  it('explains both shapes without any value', () => {
    const sentence = rule.explain();
    expect(sentence).toContain('becomes "Bearer <access token>" or "Bot <bot token>" of that connection');
    expect(sentence).toContain("a request without Authorization gets discord/default's");
    expect(sentence).not.toContain('kgph_');
    expect(new InjectionRule(provider, [work, bot]).explain()).toContain('a request without Authorization is refused');
  });

  it('a provider without bot credentials cannot take a bot placeholder', () => {
    expect(() => new InjectionRule(discordProvider, [bot])).toThrow(/no bot credentials/);
  });
});
