// Injection rules as data: what each request shape gets, and the sentence a rule explains itself with.
import { describe, expect, it } from 'vitest';
import { InjectionRule } from '../../src/proxy/rules.js';
import { credentials, discordProvider } from '../fixtures/proxy-harness.js';

const rule = new InjectionRule(discordProvider, credentials);
const [main, work] = credentials as [(typeof credentials)[0], (typeof credentials)[0]];

describe('InjectionRule', () => {
  it('replaces a placeholder in the injection header, whatever its case, choosing the connection by placeholder', () => {
    expect(rule.decide('/x', ['Host', 'discord.com', 'AUTHORIZATION', `Bearer ${work.placeholder}`])).toEqual({
      action: 'replace',
      credential: work,
      index: 3,
    });
    expect(rule.decide('/x', ['authorization', main.placeholder])).toEqual({ action: 'replace', credential: main, index: 1 });
  });

  it('adds the default connection when the header is absent, and passes a credential of the request’s own', () => {
    expect(rule.decide('/x', ['Host', 'discord.com'])).toEqual({ action: 'add', credential: main });
    expect(rule.decide('/x', ['Authorization', 'Bot abc'])).toEqual({ action: 'pass' });
  });

  it('falls back to the first connection when the run has no default one', () => {
    expect(new InjectionRule(discordProvider, [work]).decide('/', [])).toEqual({ action: 'add', credential: work });
  });

  it('refuses placeholders anywhere else, unknown placeholders and duplicate headers', () => {
    const refused = (target: string, headers: string[]) => rule.decide(target, headers).action;
    expect(refused(`/x?t=${main.placeholder}`, [])).toBe('refuse');
    expect(refused('/x', ['Cookie', `t=${main.placeholder}`])).toBe('refuse');
    expect(refused('/x', ['Authorization', 'Bearer kgph_github_default_00'])).toBe('refuse');
    expect(refused('/x', ['Authorization', `${main.placeholder} ${work.placeholder}`])).toBe('refuse');
    expect(refused('/x', ['Authorization', 'Bot a', 'Authorization', 'Bot b'])).toBe('refuse');
  });

  it('formats the credential and explains itself without any value', () => {
    expect(rule.headerValue('t0k')).toBe('Bearer t0k');
    const sentence = rule.explain();
    expect(sentence).toBe(
      'On discord.com: a placeholder in Authorization ($DISCORD_ACCESS_TOKEN → discord/default, $DISCORD_ACCESS_TOKEN_WORK → discord/work) ' +
        'becomes "Bearer <access token>" of that connection; a request without Authorization gets discord/default\'s; nothing else is changed.',
    );
    expect(sentence).not.toContain('kgph_');
  });
});
