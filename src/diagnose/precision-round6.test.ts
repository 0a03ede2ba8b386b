import { describe, expect, it } from 'vitest'
import { cats, step, top } from '../../test/support/diagnose-log.js'

// The sixteenth rule pass (batch 16's development logs), and where its wordings must not reach.

describe('git too old for what the job asks', () => {
  it('fetch --filter without partial clone, in any phase', () => {
    expect(top(step('$ git fetch --filter=blob:none origin main', 'fatal: --filter can only be used when extensions.partialClone is set'))?.category).toBe('git_client_too_old')
  })
  it('the old RPC wording with 422 is an old git; with 401/403/404 it is not', () => {
    expect(top(step('$ git clone https://gitlab.example.com/g/dep', 'error: RPC failed; result=22, HTTP code = 422', 'fatal: The remote end hung up unexpectedly'))?.category).toBe('git_client_too_old')
    for (const code of ['401', '403', '404']) {
      expect(cats(step('$ git clone https://gitlab.example.com/g/dep', `error: RPC failed; result=22, HTTP code = ${code}`, 'fatal: The remote end hung up unexpectedly'))[0], code).not.toBe('git_client_too_old')
    }
  })
  it('current git\'s RPC wording is not an old git', () => {
    expect(cats(step('$ git clone https://gitlab.example.com/g/dep', 'error: RPC failed; HTTP 422 curl 22 The requested URL returned error: 422'))).not.toContain('git_client_too_old')
  })
})

describe('Python urllib HTTP errors', () => {
  it('a 5xx or 418 with no host named is the download server\'s, not GitLab\'s', () => {
    for (const line of ['urllib.error.HTTPError: HTTP Error 503: Service Unavailable', 'urllib.error.HTTPError: HTTP Error 418: ']) {
      const d = cats(step('$ python3 fetch.py', line))
      expect(d[0], line).toBe('upstream_service_unavailable')
      expect(d).not.toContain('gitlab_server_error')
    }
  })
  it('a 404 or 403 is not a server being down', () => {
    for (const code of ['404: Not Found', '403: Forbidden']) expect(cats(step('$ python3 fetch.py', `urllib.error.HTTPError: HTTP Error ${code}`))[0]).not.toBe('upstream_service_unavailable')
  })
  it('a 502 from the GitLab host named on the line is still GitLab\'s', () => {
    expect(top(step('$ python3 release.py', 'urllib.error.HTTPError: HTTP Error 502: Bad Gateway https://gitlab.example.com/api/v4/projects/1/releases'))?.category).not.toBe('upstream_service_unavailable')
  })
})

describe('a diff the job printed is the test\'s data', () => {
  it('"Connection timed out" on a line of an expected-vs-actual diff is not the network', () => {
    const log = step('$ make check-block', "+AssertionError: 'write failed: Operation timed out' != 'write failed: Connection timed out'", '+- write failed: Operation timed out', '++ write failed: Connection timed out')
    expect(cats(log)).not.toContain('egress_blocked_firewall')
  })
  it('the same words outside a diff still are', () => {
    expect(cats(step('$ curl -fsS https://downloads.example.org/x', 'curl: (28) Failed to connect to downloads.example.org port 443 after 130000 ms: Connection timed out'))[0]).toBe('egress_blocked_firewall')
  })
  it('CMake\'s "-- " lines are not a diff', () => {
    expect(cats(step('$ cmake ..', '-- Downloading https://downloads.example.org/dep.tar.gz', '-- wget: download failed: Connection timed out'))).toContain('egress_blocked_firewall')
  })
})

describe('packages and certificates', () => {
  it('FreeBSD pkg', () => {
    const d = top(step('$ pkg install -y py39-yaml', "pkg: No packages available to install matching 'py39-yaml' have been found in the repositories"))
    expect(d?.category).toBe('package_not_found')
    expect(d?.fixes[0]?.snippet).toContain('pkg search yaml')
  })
  it('apk\'s so: names of a missing library', () => {
    expect(top(step('$ apk add shellcheck', 'ERROR: unable to select packages:', '  so:libffi.so.7 (no such package):', '    required by: shellcheck-0.7.2-r1[so:libffi.so.7]'))?.category).toBe('package_not_found')
  })
  it('git\'s GnuTLS wording with CAfile on the next line', () => {
    expect(top(step('$ git clone https://git.example.org/g/dep.git', "fatal: unable to access 'https://git.example.org/g/dep.git/':", '       server certificate verification failed.', '       CAfile: /etc/ssl/certs/ca-certificates.crt CRLfile: none'))?.category).toBe('tls_untrusted_ca')
  })
})

describe('an empty variable in a script\'s image reference', () => {
  it('the protected variable first, the malformed reference second', () => {
    const d = cats(step('$ docker tag "$CI_REGISTRY_IMAGE/app:$CI_COMMIT_REF_SLUG" "$DEPLOY_IMAGE:latest"', 'Error parsing reference: ":latest" is not a valid repository/tag: invalid reference format'))
    expect(d.slice(0, 2)).toEqual(['protected_variable_unavailable', 'image_reference_invalid'])
  })
})
