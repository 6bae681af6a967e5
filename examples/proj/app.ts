/**
 * A Celeriac project for the `celeriac` command line — the equivalent of a Celery project's
 * `proj/celery.py`. The app names no Redis: the CLI's `-b`, else `REDIS_URL`, else
 * redis://127.0.0.1:6379. Its tasks live in tasks.ts, which `include` loads (as Celery's
 * `include=['proj.tasks']`):
 *
 *   npx celeriac -A examples/proj worker -l INFO -c 4 -n w1@%h
 *   npx celeriac -A examples/proj call add -a '[2, 2]'
 */
import { createApp } from '@celeriac/runtime';

export const app = createApp({ name: 'proj', include: ['./tasks.ts'], resultTtl: 3_600 });
