import { describe, expect, it } from 'vitest'
import { all, cats, inImage, step, top } from '../../test/support/diagnose-log.js'

// The nineteenth rule pass (batch 19's dev entries and the tools' wordings): programs a tool looks for
// itself, npm's 404 on a publish, the Docker SDK without a socket, argparse's refusal of the runner's
// script, OpenSSL 3 under webpack 4, manifests refused for their format, a detached HEAD.

describe('missing-programs.ts: a program the tool looks for itself', () => {
  it.each([
    ['chrome-launcher', 'Runtime error encountered: The environment variable CHROME_PATH must be set to executable of a build of Chromium version 54.0 or later.'],
    ['chrome-launcher (none found)', 'Error: No Chrome installations found.'],
    ['Puppeteer', 'Error: Could not find Chrome (ver. 121.0.6167.85). This can occur if either'],
    ['Puppeteer (old)', 'Error: Could not find expected browser (chrome) locally. Run `npm install` to download the correct Chromium revision (1056772).'],
    ['Karma', 'ERROR [launcher]: No binary for ChromeHeadless browser on your platform.'],
    ['Cypress', 'Browser: chrome was not found on your system or is not supported by Cypress.'],
  ])('%s: no browser in the job image', (_tool, line) => {
    const d = top(inImage('node:20', '$ npm test', line))
    expect(d?.category).toBe('command_not_found')
    expect(all(d)).toMatch(/image that ships the browser/)
  })
  it('names a browser service as the mistake', () => {
    const log = ['Preparing the "docker" executor', 'Using Docker executor with image node:20 ...', 'Starting service chromedp/headless-shell:latest ...', 'Executing "step_script" stage of the job script', '$ lhci autorun', 'Runtime error encountered: The environment variable CHROME_PATH must be set to executable of a build of Chromium version 54.0 or later.', 'ERROR: Job failed: exit code 1'].join('\n')
    expect(top(log)?.cause).toContain('chromedp/headless-shell:latest runs in a container of its own')
  })
  it.each([
    ['nox', 'nox > Session test-3.10 failed: Python interpreter 3.10 not found.', '3.10'],
    ['tox 3', 'ERROR: InterpreterNotFound: python3.8', '3.8'],
    ['tox 4', 'py311: failed with could not find python interpreter matching any of the specs py311', '3.11'],
  ])('%s: the interpreter of a test session', (_tool, line, version) => {
    const d = top(inImage('python:3.9', '$ nox', line))
    expect(d?.category).toBe('command_not_found')
    expect(d?.title).toContain(`Python ${version}`)
  })
  it('bitbake\'s host tools', () => {
    const d = top(step('$ kas build kas.yml', '2024-06-03 14:57:43 - INFO     - ERROR: The following required tools (as specified by HOSTTOOLS) appear to be unavailable in PATH, please install them in order to proceed:', '2024-06-03 14:57:43 - INFO     - chrpath cpio cpp g++ gawk gcc'))
    expect(d?.category).toBe('command_not_found')
    expect(d?.title).toContain('chrpath cpio cpp g++ gawk gcc')
  })
})

describe('packages.ts: npm\'s 404 on a publish', () => {
  const publish = ['$ npm publish', 'npm ERR! code E404', 'npm ERR! 404 Not Found - PUT https://registry.npmjs.org/g1link - Not found', "npm ERR! 404  'g1link@0.1.1' is not in the npm registry."]
  it('is the registry refusing the token, not a missing package', () => {
    const d = top(step(...publish))
    expect(d?.category).toBe('package_registry_auth_failed')
    expect(d?.title).toBe('registry.npmjs.org refused the publish')
  })
  it('guard: a 404 on install (GET) stays a missing package', () => {
    expect(top(step('$ npm ci', 'npm ERR! code E404', 'npm ERR! 404 Not Found - GET https://registry.npmjs.org/left-padd - Not found', "npm ERR! 404  'left-padd@*' is not in this registry."))?.category).toBe('package_not_found')
  })
})

describe('dind.ts: the Python Docker SDK without a socket', () => {
  it('requests\' ConnectionError with FileNotFoundError is the missing daemon', () => {
    const d = top(step('$ pytest tests/integration', "E           requests.exceptions.ConnectionError: ('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))"))
    expect(d?.category).toBe('dind_service_missing')
  })
})

describe('an image\'s argparse ENTRYPOINT refusing the runner\'s script', () => {
  const log = ['usage: poky-entry.py [-h] [--workdir WORKDIR] [--id ID] [--cmd CMD]', 'poky-entry.py: error: unrecognized arguments: sh -c if [ -x /usr/local/bin/bash ]; then', '\texec /usr/local/bin/bash ', 'elif [ -x /usr/bin/bash ]; then'].join('\n')
  it('is the entrypoint, not an old git', () => {
    expect(cats(log)).toEqual(['image_entrypoint_override'])
  })
  it('guard: git\'s own "error: unrecognized argument" while fetching is still an old git', () => {
    const old = ['Preparing the "shell" executor', 'Getting source from Git repository', 'Fetching changes with git depth set to 50...', 'error: unrecognized argument: --no-recurse-submodules', 'ERROR: Job failed: exit status 1'].join('\n')
    expect(top(old)?.category).toBe('git_client_too_old')
  })
})

describe('toolchain.ts: Node.js 17+ (OpenSSL 3) under webpack 4', () => {
  it('is the image\'s Node.js too new for the build, with the pin and the stopgap', () => {
    const d = top(inImage('node:latest', '$ npm run build', 'Error: error:0308010C:digital envelope routines::unsupported', '    at new Hash (node:internal/crypto/hash:67:19)', "  code: 'ERR_OSSL_EVP_UNSUPPORTED'"))
    expect(d?.category).toBe('toolchain_version_too_old')
    expect(d?.title).toContain('newer')
    expect(all(d)).toContain('image: node:16')
    expect(all(d)).toContain('--openssl-legacy-provider')
  })
})

describe('manifest-format.ts: manifests refused for their format', () => {
  const mediaType = "mediaType in manifest list should be 'application/vnd.docker.distribution.manifest.list.v2+json' not 'application/vnd.oci.image.index.v1+json'"
  it('through a mirror on the Kubernetes executor', () => {
    const log = `Preparing the "kubernetes" executor\nERROR: Job failed: prepare environment: waiting for pod running: pulling image "hub.example.ru/docker/library/ubuntu:22.04": image pull failed: rpc error: code = Unknown desc = Error response from daemon: ${mediaType}`
    const d = top(log)
    expect(d?.category).toBe('image_manifest_format_unsupported')
    expect(d?.title).toContain('hub.example.ru')
  })
  it('an old docker image named in the log stays the old Docker first', () => {
    expect(cats(inImage('docker:19.03', '$ docker pull alpine:3.19', `Error response from daemon: ${mediaType}`)).slice(0, 2)).toEqual(['toolchain_version_too_old', 'image_manifest_format_unsupported'])
  })
  it('a buildx push whose attestation the registry refuses', () => {
    const d = top(step('$ docker buildx build --platform linux/amd64,linux/arm64 --push -t "$CI_REGISTRY_IMAGE:latest" .', 'ERROR: failed to solve: failed to push registry.gitlab.com/acme/app:latest: unknown: blob unknown to registry'))
    expect(d?.category).toBe('image_manifest_format_unsupported')
    expect(all(d)).toContain('--provenance=false')
  })
  it('a registry refusing an OCI index on push', () => {
    expect(top(step('$ docker push registry.example.com/app:1.2', 'manifest invalid: manifest invalid'))?.category).toBe('image_manifest_format_unsupported')
  })
  it('guard: "blob unknown" while pulling is not a push refusal', () => {
    expect(cats(step('$ crane copy a b', 'Error: GET https://registry.example.com/v2/app/blobs/sha256:ab12: BLOB_UNKNOWN: blob unknown to registry'))).not.toContain('image_manifest_format_unsupported')
  })
})

describe('detached-head.ts: release tools on the runner\'s detached checkout', () => {
  it('lerna ENOGIT', () => {
    const d = top(step('$ lerna publish --yes', 'lerna info ci enabled', 'lerna ERR! ENOGIT Detached git HEAD, please checkout a branch to choose versions.'))
    expect(d?.category).toBe('git_detached_head')
    expect(all(d)).toContain('git checkout -B "$CI_COMMIT_REF_NAME" "$CI_COMMIT_SHA"')
  })
  it('git push without a refspec', () => {
    expect(top(step('$ git push', 'fatal: You are not currently on a branch.', 'To push the history leading to the current (detached HEAD)', 'state now, use', '', '    git push origin HEAD:<name-of-remote-branch>'))?.category).toBe('git_detached_head')
  })
  it('guard: git\'s informational "HEAD detached at" and the runner\'s checkout are not failures', () => {
    expect(cats(step('$ git status', 'HEAD detached at 1a2b3c4', 'nothing to commit, working tree clean', '$ make test', 'FAIL: test_total'))).not.toContain('git_detached_head')
  })
})
