// ESLint flat config: typescript-eslint's recommended rules over the TypeScript sources.
// typescript-eslint parses with TypeScript's classic API, which TypeScript 7 dropped: package.json's
// `typescript` is @typescript/typescript6 for it; tsc is TypeScript 7 (@typescript/native).
import { defineConfig, globalIgnores } from 'eslint/config';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'docs/api/']),   // (docs/api: TypeDoc's output, npm run docs:api)
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `const { field: _, ...rest } = x` is how the code drops a field from a copy
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
);
