// Lint: type-aware rules that catch a daemon's typical bugs (dropped promises, unhandled cases),
// plus import boundaries that keep the core free of processes, timers and D-Bus.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The folders that must stay pure (docs/architecture.md); tsconfig.pure.json lists the same.
const PURE = ['src/api/**', 'src/rclone/**', 'src/run/rules/**', 'src/run/types.ts', 'src/scheduler/**', 'src/alerts/**', 'src/sysbus/**', 'src/conditions/**', 'src/errors.ts', 'src/ports.ts'];

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
    files: ['src/config/**', ...PURE],
    rules: { 'no-restricted-imports': ['error', coreRestrictions] },
  },
  {
    // The pure core reads no clock, arms no timer and sees no process: they are injected (tsconfig.pure.json
    // enforces the same through the compiler).
    files: PURE,
    rules: {
      'no-restricted-globals': ['error', ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'process', 'Buffer', 'performance'].map((name) => ({ name, message: 'Pure core: inject a Clock or pass the value in.' }))],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'Pure core: read the time from the injected Clock.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Pure core: read the time from the injected Clock.' },
      ],
    },
  },
  {
    files: ['src/cli/**'],
    // src/cli/standalone.ts is the one exception: without a running service, rbmctl builds the service in its own
    // process (the composition root, service/wiring.ts) and talks to it through the same ControlApi. main.ts loads
    // it with a dynamic import only when it is needed, so the other commands never load the engine.
    ignores: ['src/cli/standalone.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/service/**', '**/scheduler/**'], message: 'rbmctl talks to the service over D-Bus only (the in-process service: src/cli/standalone.ts).' }] }] },
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
