// Lint (part of `npm test`): typescript-eslint's type-checked recommended rules over the sources,
// tests and benchmarks. They catch what tsc does not: floating promises, `any` flowing into typed
// code, promises passed where a callback's result is ignored, needless assertions.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // The consumer fixture imports the packed package by name; test/package/library.test.ts compiles it.
  { ignores: ['dist/', '**/dist/', 'node_modules/', 'coverage/', '**/*.d.ts', 'test/package/consumer/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { project: ['./tsconfig.test.json', './examples/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `_`-prefixed names are deliberately unused (destructuring a field away, a required parameter).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Functions that implement a Promise-returning contract (Vault, TokenAccess, command mains)
      // stay `async` without an await: a throw inside then becomes a rejection, as callers expect.
      '@typescript-eslint/require-await': 'off',
      // keygate matches control characters on purpose: HTTP framing refuses them, terminal output
      // escapes them.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests parse JSON answers (typed `any`) and assert on them with expect(), which is the check;
    // typing every fixture body would add casts, not safety.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    // The Node preload is CommonJS by necessity (`--require` into any child): require() is the point.
    files: ['src/run/preload.cts'],
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
