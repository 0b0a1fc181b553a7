// Lint: type-aware rules that catch a daemon's typical bugs (dropped promises, unhandled cases),
// plus import boundaries that keep the core free of processes, timers and D-Bus.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const coreRestrictions = {
  paths: ['node:child_process', 'child_process', 'dbus-next', 'sd-notify', 'winston', 'node:timers'].map((name) => ({
    name,
    message: 'The core stays free of processes, timers, D-Bus and logging back-ends: inject a port instead.',
  })),
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'bin/**', 'eslint.config.js', 'src/**/*.generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'], package: 'node:test' }] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/config/**', 'src/core/**', 'src/scheduler/**'],
    rules: { 'no-restricted-imports': ['error', coreRestrictions] },
  },
  {
    files: ['src/cli/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/service/**', '**/scheduler/**'], message: 'rbmctl talks to the service over D-Bus only.' }] }] },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
