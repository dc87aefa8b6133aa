import { Hono } from 'hono';
import { CATEGORIES, CATEGORY_GROUPS } from '../core/categories.js';

/** `/v1/categories`: the fixed taxonomy, in Chinese and English. */
export function categoryRoutes() {
  return new Hono().get('/', (c) => c.json({ groups: CATEGORY_GROUPS, categories: CATEGORIES }));
}
