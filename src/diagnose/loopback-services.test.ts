import { describe, expect, it } from 'vitest'
import { all, cats, on, run, step, top, withServices } from '../../test/support/diagnose-log.js'
import { diagnose } from './engine.js'
import { serviceAlias } from './rules/loopback-services.js'
import { parseTrace } from './trace.js'

// sibling_container_host_wrong (rules/loopback-services.ts): a client looking for its server on
// localhost from a job container, where services and socket-started containers are elsewhere.


describe('serviceAlias', () => {
  it('is GitLab\'s default alias: no tag or digest, "/" as "__"', () => {
    expect(serviceAlias('postgres:16')).toBe('postgres')
    expect(serviceAlias('bitnami/redis:7.2')).toBe('bitnami__redis')
    expect(serviceAlias('registry.example.com:5000/group/mysql:8')).toBe('registry.example.com:5000__group__mysql')
    expect(serviceAlias('mongo@sha256:0123abcd')).toBe('mongo')
  })
})

describe('a server looked for on localhost from a Docker executor job', () => {
  it('names the service and its alias (Node, postgres service)', () => {
    const d = top(withServices(['postgres:16'], '$ npm test', 'Error: connect ECONNREFUSED 127.0.0.1:5432', '    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)'))
    expect(d?.category).toBe('sibling_container_host_wrong')
    expect(d?.confidence).toBeGreaterThanOrEqual(0.7)
    expect(all(d)).toContain('DB_HOST: postgres')
  })
  it('picks the service by the port among several', () => {
    const d = top(withServices(['redis:7', 'mysql:8.0'], '$ mysql -h 127.0.0.1 -u root -e "SELECT 1"', "ERROR 2003 (HY000): Can't connect to MySQL server on '127.0.0.1' (111)"))
    expect(d?.category).toBe('sibling_container_host_wrong')
    expect(d?.title).toContain('127.0.0.1')
    expect(all(d)).toContain('alias: mysql')
  })
  it('reads a client that fell back to the Unix socket (MySQL with "localhost")', () => {
    const d = top(withServices(['mariadb:11'], '$ mysql -u root -e "SELECT 1"', "ERROR 2002 (HY000): Can't connect to local MySQL server through socket '/run/mysqld/mysqld.sock' (2)"))
    expect(d?.category).toBe('sibling_container_host_wrong')
    expect(all(d)).toContain('mariadb')
    expect(d?.title).toContain('(/run/mysqld/mysqld.sock)')
  })
  it('reads libpq before 14, whose port is on the next line', () => {
    const d = top(withServices(['postgres:12'], '$ psql -h localhost -U postgres -c "select 1"', 'psql: could not connect to server: Connection refused', '\tIs the server running on host "localhost" (127.0.0.1) and accepting', '\tTCP/IP connections on port 5432?'))
    expect(d?.category).toBe('sibling_container_host_wrong')
    expect(d?.title).toContain('localhost:5432')
  })
  it('offers the service not starting as the other answer', () => {
    expect(cats(withServices(['redis:7'], '$ redis-cli ping', 'Could not connect to Redis at 127.0.0.1:6379: Connection refused')).slice(0, 2))
      .toEqual(['sibling_container_host_wrong', 'service_failed_to_start'])
  })
  it('Testcontainers through the host\'s socket: the ports are on the Docker host', () => {
    const d = top(withServices([], '$ npm run test:integration', 'testcontainers:containers Started container for image postgres:13 +2s', 'Error: connect ECONNREFUSED 127.0.0.1:44937'))
    expect(d?.category).toBe('sibling_container_host_wrong')
    expect(all(d)).toContain('TESTCONTAINERS_HOST_OVERRIDE')
  })
  it('docker run -p through a dind service: connect to "docker"', () => {
    const d = top(withServices(['docker:27-dind'], '$ docker run -d -p 8080:80 nginx:alpine', '$ curl -f http://localhost:8080/', 'curl: (7) Failed to connect to localhost port 8080 after 0 ms: Couldn\'t connect to server'))
    expect(d?.category).toBe('sibling_container_host_wrong')
    expect(all(d)).toContain('tcp://docker:2375')
  })
  it('with the job\'s YAML, uses the alias it sets', () => {
    const log = withServices(['postgres:16'], '$ pytest', "psycopg2.OperationalError: connection to server at \"localhost\" (127.0.0.1), port 5432 failed: Connection refused")
    const ciYaml = 'test:\n  image: python:3.12\n  services:\n    - name: postgres:16\n      alias: db\n  script: [pytest]\n'
    expect(all(run(log).diagnoses[0])).toContain('DB_HOST: postgres')
    const d = diagnose({ trace: parseTrace(log), ciYaml }).diagnoses[0]
    expect(d?.category).toBe('sibling_container_host_wrong')
    expect(all(d)).toContain('DB_HOST: db')
  })
  it('a paste without executor still gets it, weaker', () => {
    const d = top(step('$ go test ./...', 'dial tcp 127.0.0.1:6379: connect: connection refused'))
    expect(d?.category).toBe('sibling_container_host_wrong')
    expect(d?.confidence).toBeLessThan(0.5)
  })
})

describe('not this class', () => {
  it('on the Kubernetes executor, where services are on localhost', () => {
    expect(cats(on('kubernetes', '$ npm test', 'Error: connect ECONNREFUSED 127.0.0.1:5432'))).not.toContain('sibling_container_host_wrong')
  })
  it('on the shell executor, where localhost is the runner host', () => {
    expect(cats(on('shell', '$ npm test', 'Error: connect ECONNREFUSED 127.0.0.1:5432'))).not.toContain('sibling_container_host_wrong')
  })
  it('when the script started the server in the job itself', () => {
    expect(cats(withServices([], '$ redis-server --daemonize yes', '$ redis-cli ping', 'Could not connect to Redis at 127.0.0.1:6379: Connection refused'))).not.toContain('sibling_container_host_wrong')
    expect(cats(withServices([], '$ python -m http.server 8000 &', '$ curl -f http://localhost:8000/', 'curl: (7) Failed to connect to localhost port 8000 after 1 ms: Connection refused'))).not.toContain('sibling_container_host_wrong')
  })
  it('for the Docker daemon, kubectl\'s fallback or a proxy', () => {
    expect(cats(withServices([], '$ docker info', 'Cannot connect to the Docker daemon at tcp://localhost:2375. Is the docker daemon running?'))).not.toContain('sibling_container_host_wrong')
    expect(top(withServices([], '$ kubectl get pods', 'The connection to the server localhost:8080 was refused - did you specify the right host or port?'))?.category).toBe('script_kubeconfig_missing')
    expect(cats(withServices([], '$ npm ci', 'npm ERR! request to https://registry.npmjs.org/x failed, reason: connect ECONNREFUSED 127.0.0.1:3128 (proxy)'))).not.toContain('sibling_container_host_wrong')
  })
  it('in a test\'s printed expectation', () => {
    const log = withServices([], '$ pytest', 'E       AssertionError: assert \'ok\' == \'connect ECONNREFUSED 127.0.0.1:5432\'', 'E         - connect ECONNREFUSED 127.0.0.1:5432', 'E         + ok')
    expect(cats(log)[0]).not.toBe('sibling_container_host_wrong')
  })
})
