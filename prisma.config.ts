import { defineConfig } from 'prisma/config';

// Only `prisma generate` and `prisma validate` are used (see stack notes in README):
// migrations are applied by `vigil migrate`.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/vigil' },
});
