import { createServer, type Server } from 'node:http'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { GlrunError } from '../diagnostics/errors.js'

/**
 * The runner's Prometheus metrics, named as gitlab-runner names them where it has a name
 * (`gitlab_runner_jobs`, `gitlab_runner_jobs_total`, `gitlab_runner_failed_jobs_total`,
 * `gitlab_runner_api_request_statuses_total`, `gitlab_runner_errors_total`), plus request and job
 * durations and Node's process metrics.
 */
export class RunnerMetrics {
  readonly registry = new Registry()
  readonly running = new Gauge({ name: 'gitlab_runner_jobs', help: 'The current number of running jobs', labelNames: ['runner', 'executor'], registers: [this.registry] })
  readonly jobs = new Counter({ name: 'gitlab_runner_jobs_total', help: 'Total jobs taken, by how they ended', labelNames: ['runner', 'state'], registers: [this.registry] })
  readonly failed = new Counter({ name: 'gitlab_runner_failed_jobs_total', help: 'Total failed jobs, by failure reason', labelNames: ['runner', 'failure_reason'], registers: [this.registry] })
  readonly requests = new Counter({ name: 'gitlab_runner_api_request_statuses_total', help: 'API requests to GitLab by endpoint and status', labelNames: ['runner', 'endpoint', 'status'], registers: [this.registry] })
  readonly requestSeconds = new Histogram({ name: 'glrun_api_request_duration_seconds', help: 'Duration of API requests to GitLab (long polls included)', labelNames: ['endpoint'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 90], registers: [this.registry] })
  readonly jobSeconds = new Histogram({ name: 'glrun_job_duration_seconds', help: 'Duration of jobs, from receipt to the final update', labelNames: ['runner'], buckets: [1, 5, 15, 60, 300, 900, 3600], registers: [this.registry] })
  readonly errors = new Counter({ name: 'gitlab_runner_errors_total', help: 'Errors logged, by level', labelNames: ['level'], registers: [this.registry] })

  constructor() {
    collectDefaultMetrics({ register: this.registry })
  }

  /** Serves /metrics at `host:port` (gitlab-runner's listen_address). Resolves once listening. */
  async listen(address: string): Promise<Server> {
    const m = /^(.*):(\d+)$/.exec(address)
    if (!m) throw new GlrunError('GLRUN_CONFIG_LISTEN_ADDRESS', `listen_address "${address}" is not host:port`, { hint: 'For example listen_address = "127.0.0.1:9252".' })
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end()
        return
      }
      this.registry.metrics().then((text) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(text), () => res.writeHead(500).end())
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new GlrunError('GLRUN_METRICS_LISTEN', `cannot serve metrics at ${address}: ${(e as Error).message}`, { hint: 'Pick a free port for listen_address.' })))
      server.listen(Number(m[2]), m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', resolve)
    })
    return server
  }
}
