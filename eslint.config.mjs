// Type-aware linting with typescript-eslint's strict and stylistic type-checked rule sets.
// Generated code (src/generated/) is not linted: CI regenerates it and fails on any change.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'fetch',
    'Response',
    'Request',
    'Headers',
    'AbortController',
    'AbortSignal',
    'TextEncoder',
    'TextDecoder',
    'crypto',
    'globalThis',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'structuredClone',
    'performance',
    'queueMicrotask',
    'atob',
    'btoa',
  ].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  {
    ignores: ['dist/**', 'src/generated/**', 'docs/**', '.test-results/**', 'bench/results/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers in messages are the common, harmless case; objects and unknowns still fail.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // noUncheckedIndexedAccess types every indexed read as `T | undefined`; where the code has
      // proven the index, `!` says so (non-nullable-type-assertion-style asks for it over `as T`).
      '@typescript-eslint/no-non-null-assertion': 'off',
      // tsc's noUnusedLocals/noUnusedParameters report these and, unlike this rule, count the
      // imports that TSDoc {@link} tags refer to.
      '@typescript-eslint/no-unused-vars': 'off',
      // The validators match control characters on purpose: to refuse them.
      'no-control-regex': 'off',
      // Option copies and process.env need a key gone, not set to undefined.
      '@typescript-eslint/no-dynamic-delete': 'off',
      // Passing on a caught `unknown` unchanged is how errors propagate; new rejections are Errors.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // A public interface named over one generated type (IntrospectionResult) is documentation.
      '@typescript-eslint/no-empty-object-type': [
        'error',
        { allowInterfaces: 'with-single-extends' },
      ],
    },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      // Tests pass methods to expect().
      '@typescript-eslint/unbound-method': 'off',
      // Test doubles keep the async shape of what they stand in for (fetch, stores, IdP adapters).
      '@typescript-eslint/require-await': 'off',
      // Cleanup hooks guard what a failed beforeAll never set; tests feed wrong types on purpose.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Vitest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // Plain JavaScript scripts: linted without type information, with Node's globals.
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: nodeGlobals },
    // No tsc pass covers these files.
    rules: { '@typescript-eslint/no-unused-vars': 'error' },
  },
);
