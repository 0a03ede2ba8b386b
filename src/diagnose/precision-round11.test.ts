import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { expectLinear, sized } from '../../test/support/linear-time.js'
import { all, cats, inImage, on, run, step, top } from '../../test/support/diagnose-log.js'
import { diagnose, reportJson } from './engine.js'
import { STREAM_LIMITS } from './reader-limits.js'
import { parseTrace, parseTraceStream } from './trace.js'

// Kept from review rv8 (helper) of the twentieth rule pass and the rv7 mend (issue 14): ci_before_sha_zero,
// artifacts_report_rejected, bind mounts the daemon made empty, coreutils under seccomp, Maven/Java Docker clients,
// Gradle's provisioned JDK, third-party 5xx, and the stream reader's pinned `$ ` echoes. All 26 findings are mended:
// each "Fn" case states the behaviour expected where the reviewed code failed; a guard pins behaviour that must stay.
// The reasons and the tools' sources are in REVIEW-rv8.md, in the commit that added it.

const Z = '0'.repeat(40)
const SHA = '10310dbd8c3ac5e8e505a9292becaede0bfeff1a'
const uploadRaw = (type: string, glob: string): string[] => [
  `${glob}: found 2 matching files and directories`,
  `ERROR: Uploading artifacts as "${type}" to coordinator... error  error=couldn't execute POST against https://gitlab.example.com/api/v4/jobs/1/artifacts?artifact_format=raw&artifact_type=${type}&expire_in=1+day: Post "https://gitlab.example.com/api/v4/jobs/1/artifacts?artifact_format=raw&artifact_type=${type}&expire_in=1+day": only one file can be sent as raw id=1 token=xyz`,
  'WARNING: Retrying...                                context=artifacts-uploader error=invalid argument',
]

describe('before-sha.ts: ci_before_sha_zero', () => {
  it('F1: forty zeros in a unit test\'s own message (a null object id), with no git command and no CI_COMMIT_BEFORE_SHA, are not the before SHA', () => {
    const log = step('$ go test ./...', '--- FAIL: TestUpdateRef (0.00s)', `    refs_test.go:88: error: unexpected old revision ${Z}, want ${SHA}`, 'FAIL', 'FAIL\tgitlab.example.com/acme/gitstore/refs\t0.004s')
    expect(cats(log)).not.toContain('ci_before_sha_zero')
  })
  it('F2: a refusal in after_script does not outrank the script\'s own failure (after_script cannot fail the job)', () => {
    const log = ['Executing "step_script" stage of the job script', '$ pytest', 'FAILED tests/test_total.py::test_total - assert 1 == 2', '=== 1 failed, 20 passed in 0.52s ===', 'Running after_script', 'Running after script...', '$ git diff --stat $CI_COMMIT_BEFORE_SHA HEAD', `fatal: bad object ${Z}`, 'ERROR: Job failed: exit code 1'].join('\n')
    expect(top(log)?.category).not.toBe('ci_before_sha_zero')
  })
  it('F3: a refusal the script went past ("|| git ls-files") and a later failing command is not why the job failed', () => {
    const log = step('$ CHANGED=$(git diff --name-only $CI_COMMIT_BEFORE_SHA HEAD || git ls-files)', `fatal: bad object ${Z}`, '$ npm test', 'Tests:       1 failed, 20 passed, 21 total', 'npm ERR! Test failed.  See above for more details.')
    expect(top(log)?.category).not.toBe('ci_before_sha_zero')
  })
  it('guard: the dev case (dco-check) stays', () => {
    expect(top(step('$ dco-check', `Checking commits: ${Z}..${SHA}`, `error: fatal: Invalid revision range ${Z}..${SHA}`))?.category).toBe('ci_before_sha_zero')
  })
  it('guard: commitlint --from $CI_COMMIT_BEFORE_SHA (git-raw-commits wraps git\'s refusal in an Error)', () => {
    expect(top(step('$ npx commitlint --from $CI_COMMIT_BEFORE_SHA --to $CI_COMMIT_SHA', `Error: fatal: Invalid revision range ${Z}..${SHA}`, '', '    at ChildProcess.<anonymous> (/builds/acme/app/node_modules/git-raw-commits/index.js:84:19)'))?.category).toBe('ci_before_sha_zero')
  })
  it('guard: nx affected --base=$CI_COMMIT_BEFORE_SHA', () => {
    expect(top(step('$ npx nx affected -t lint --base=$CI_COMMIT_BEFORE_SHA --head=$CI_COMMIT_SHA', ` >  NX   Command failed: git merge-base ${Z} HEAD`, `fatal: Not a valid object name ${Z}`))?.category).toBe('ci_before_sha_zero')
  })
})

describe('artifacts.ts: reportRejected()', () => {
  it('F4: a sast report\'s fixes do not tell the job to write gl-codequality-report.json, nor to merge objects with jq\'s add (the last report wins)', () => {
    const log = ['Executing "step_script" stage of the job script', '$ semgrep ci --gitlab-sast -o gl-sast-semgrep.json && bandit -r . -f json -o gl-sast-bandit.json', 'Uploading artifacts for successful job', 'Uploading artifacts...', ...uploadRaw('sast', 'gl-sast-*.json'), 'ERROR: Job failed: exit code 1'].join('\n')
    const d = top(log)
    expect(d?.category).toBe('artifacts_report_rejected')
    expect(all(d)).not.toContain('codequality')
    expect(all(d)).not.toContain('jq -s "add"')
  })
  it('F5: the title never reads "the the report report" when the line does not name the type', () => {
    const d = top(step('$ ./upload-reports.sh', 'only one file can be sent as raw'))
    expect(d?.category).toBe('artifacts_report_rejected')
    expect(d?.title).not.toContain('the the report')
  })
  it('F6: a report refused while uploading for a job whose script already failed is not the top answer', () => {
    const log = ['Executing "step_script" stage of the job script', '$ pytest --junitxml=report.xml', 'FAILED tests/test_total.py::test_total - assert 1 == 2', '=== 1 failed, 20 passed in 0.52s ===', 'Uploading artifacts for failed job', 'Uploading artifacts...', ...uploadRaw('codequality', 'gl-code-quality-*.json'), 'ERROR: Job failed: exit code 1'].join('\n')
    expect(top(log)?.category).not.toBe('artifacts_report_rejected')
  })
  it('guard: the dev case (codequality, two files) stays, named by its type', () => {
    const log = ['Executing "step_script" stage of the job script', '$ hadolint -f gitlab_codeclimate Dockerfile* > hadolint-$CI_COMMIT_SHORT_SHA.json', 'Uploading artifacts for successful job', 'Uploading artifacts...', ...uploadRaw('codequality', 'hadolint-*.json'), 'ERROR: Job failed: exit code 1'].join('\n')
    expect(top(log)?.category).toBe('artifacts_report_rejected')
    expect(top(log)?.title).toContain('codequality')
  })
})

describe('build-deploy.ts: emptyMount()', () => {
  it('F7: the script\'s own `$ docker run -v /builds/…:/src` echo counts (Scan.all skips `$ ` lines, so only a tool\'s echo is ever read)', () => {
    expect(top(step('$ docker run --rm -v /builds/acme/app:/src alpine cat /src/package.json', "cat: can't open '/src/package.json': No such file or directory"))?.category).toBe('dind_bind_mount_path')
  })
  it('F7b: the runner echoes the script unexpanded: -v "$CI_PROJECT_DIR":/src is the job\'s directory too', () => {
    expect(top(step('$ docker run --rm -v "$CI_PROJECT_DIR":/src alpine cat /src/package.json', "cat: can't open '/src/package.json': No such file or directory"))?.category).toBe('dind_bind_mount_path')
  })
  it('F8: --volume is -v (set -x echo of a wrapper script)', () => {
    expect(top(step('$ ./ci/lint.sh', '+ docker run --rm --volume /builds/acme/app:/src hadolint/hadolint hadolint /src/Dockerfile', 'hadolint: /src/Dockerfile: openBinaryFile: does not exist (No such file or directory)'))?.category).toBe('dind_bind_mount_path')
  })
  it('F9: a path that merely contains the mount point ("/builds/acme/app/dist" for -v …:/app) is not under it', () => {
    const log = step('$ ./ci/build.sh', '+ docker run --rm -v /builds/acme/app:/app -w /app node:18 npm run build', '> app@1.0.0 build', '> vite build', 'vite v5.0.0 building for production...', '✓ 120 modules transformed.', '+ tar czf site.tgz -C /builds/acme/app/dist .', 'tar: /builds/acme/app/dist: Cannot open: No such file or directory', 'tar: Error is not recoverable: exiting now')
    expect(cats(log)).not.toContain('dind_bind_mount_path')
  })
  it('F10: CDK\'s older wording ("Check that your container writes content to /asset-output.")', () => {
    expect(top(step('$ npx cdk synth', 'Bundling asset MyStack/Fn/Code/Stage...', 'Error: Bundling did not produce any output. Check that your container writes content to /asset-output.'))?.category).toBe('dind_bind_mount_path')
  })
  it('F11: for CDK\'s bundling the fix names CDK\'s own switch for Docker-in-Docker (bundlingFileAccess: VOLUME_COPY)', () => {
    expect(all(top(step('$ npx cdk synth', 'Bundling asset MyStack/Fn/Code/Stage...', 'Error: Bundling did not produce any output. Check that content is written to /asset-output.')))).toContain('VOLUME_COPY')
  })
  it('F12: on the shell executor the daemon shares the job\'s filesystem: an empty /asset-output is the bundling command\'s own', () => {
    expect(top(on('shell', '$ npx cdk synth', 'Bundling asset MyStack/Fn/Code/Stage...', 'Error: Bundling did not produce any output. Check that content is written to /asset-output.'))?.category).not.toBe('dind_bind_mount_path')
  })
  it('guard: Serverless\' echoed docker run, then the file missing under /var/task, stays', () => {
    expect(top(step('$ serverless deploy', "Serverless: Running docker run --rm -v /builds/acme/fn/.serverless/requirements\\:/var/task\\:z lambci/lambda\\:build-python3.8 /bin/sh -c 'pip install -r /var/task/requirements.txt'...", "Serverless: Stderr: ERROR: Could not open requirements file: [Errno 2] No such file or directory: '/var/task/requirements.txt'"))?.category).toBe('dind_bind_mount_path')
  })
  it('guard: CDK\'s current wording on the Docker executor stays', () => {
    expect(top(step('$ npx cdk synth', 'Error: Bundling did not produce any output. Check that content is written to /asset-output.'))?.category).toBe('dind_bind_mount_path')
  })
})

describe('script.ts: SECCOMP', () => {
  it('F13: the Alpine 3.14 wording of the same refusal (make\'s faccessat2 on musl): "make: /bin/sh: Operation not permitted"', () => {
    expect(top(inImage('php:8.0-fpm-alpine3.14', '$ make build', 'make: /bin/sh: Operation not permitted', 'make: *** [Makefile:3: build] Error 127'))?.category).toBe('seccomp_blocks_new_syscalls')
  })
  it('F14: on the shell executor there is no container runtime between the job and the host: not "the runner\'s container runtime is too old"', () => {
    expect(top(on('shell', '$ ls -l /usr/local/bin/helm', "ls: cannot access '/usr/local/bin/helm': Operation not permitted"))?.category).not.toBe('seccomp_blocks_new_syscalls')
  })
  it('guard: a file of the image that is really missing is not seccomp', () => {
    expect(cats(inImage('maven:3-jdk-11', '$ ls -l /usr/bin/mvn', "ls: cannot access '/usr/bin/mvn': No such file or directory"))).not.toContain('seccomp_blocks_new_syscalls')
  })
  it('guard: the dev wording stays', () => {
    expect(top(inImage('maven:3-jdk-11', '$ mvn clean package -U', "ls: cannot access '/usr/bin/mvn': Operation not permitted"))?.category).toBe('seccomp_blocks_new_syscalls')
  })
})

describe('dind.ts: CONNECT, other Java Docker clients without a daemon', () => {
  it('F15: spotify\'s docker-maven-plugin / dockerfile-maven-plugin in their usual words (jersey ProcessingException)', () => {
    expect(top(step('$ mvn package', '[ERROR] Failed to execute goal com.spotify:dockerfile-maven-plugin:1.4.13:build (default) on project app: Could not build image: java.util.concurrent.ExecutionException: com.spotify.docker.client.shaded.javax.ws.rs.ProcessingException: java.io.IOException: No such file or directory -> [Help 1]'))?.category).toBe('dind_service_missing')
  })
  it('F16: Testcontainers-Java\'s cached refusal for every later test class ("Previous attempts to find a Docker environment failed")', () => {
    expect(top(step('$ mvn verify', '[ERROR] Tests run: 3, Failures: 0, Errors: 3, Skipped: 0, Time elapsed: 0.02 s <<< FAILURE! - in com.acme.OrderRepositoryIT', '[ERROR] com.acme.OrderRepositoryIT  Time elapsed: 0.02 s  <<< ERROR!', 'java.lang.IllegalStateException: Previous attempts to find a Docker environment failed. Will not retry. Please see logs and check configuration'))?.category).toBe('dind_service_missing')
  })
  it('F17: Jib\'s daemon mode (jib:dockerBuild) with no Docker in the job', () => {
    expect(top(step('$ mvn compile jib:dockerBuild', '[ERROR] Failed to execute goal com.google.cloud.tools:jib-maven-plugin:3.4.0:dockerBuild (default-cli) on project app: Build to Docker daemon failed, perhaps you should make sure Docker is installed and you have correct privileges to run it -> [Help 1]'))?.category).toBe('dind_service_missing')
  })
  it('guard: fabric8\'s wording stays', () => {
    expect(top(step('$ mvn deploy', "[ERROR] Failed to execute goal io.fabric8:docker-maven-plugin:0.39.1:build (default) on project app: Execution default of goal io.fabric8:docker-maven-plugin:0.39.1:build failed: No <dockerHost> given, no DOCKER_HOST environment variable, no read/writable '/var/run/docker.sock' or '//./pipe/docker_engine' and no external provider like Docker machine configured -> [Help 1]"))?.category).toBe('dind_service_missing')
  })
})

describe('detached-head.ts', () => {
  it('F18: git push of HEAD (or HEAD:<new branch>) from the detached checkout: "The destination you provided is not a full refname"', () => {
    const log = step('$ git push origin HEAD', 'error: The destination you provided is not a full refname (i.e.,', 'starting with "refs/"). We tried to guess what you meant by:', '', "- Looking for a ref that matches 'HEAD' on the remote side.", "- Checking if the <src> being pushed ('HEAD')", '  is a ref in "refs/{heads,tags}/". If so we add a corresponding', '  refs/{heads,tags}/ prefix on the remote side.', '', 'Neither worked, so we gave up. You must fully qualify the ref.', 'hint: The <src> part of the refspec is a commit object.', 'hint: Did you mean to create a new branch by pushing to', "hint: 'HEAD:refs/heads/HEAD'?", "error: failed to push some refs to 'https://gitlab.example.com/acme/app.git'")
    expect(top(log)?.category).toBe('git_detached_head')
  })
  it('guard: the Gradle release plugin\'s "(HEAD detached at …)" refspec behind Maven\'s [ERROR] stays', () => {
    expect(top(step('$ mvn release:prepare', "[ERROR] fatal: invalid refspec '(HEAD detached at 2a50e31)'"))?.category).toBe('git_detached_head')
  })
})

describe('packages.ts: toolchainProbe()', () => {
  const probe = (image: string, jdk: string): string => inImage(image, '$ gradle build', `      > Provisioned toolchain '/root/.gradle/jdks/${jdk}' could not be probed: Command returned unexpected result code: 6`)
  it('F19: the installed-JDK path is a real one (Alpine\'s openjdk8 is /usr/lib/jvm/java-1.8-openjdk; Debian\'s java-8-openjdk-<arch>)', () => {
    expect(all(top(probe('openjdk:17-alpine', 'adoptium-8-x64-hotspot-linux')))).not.toContain('/usr/lib/jvm/java-8-openjdk ')
  })
  it('F20: the foojay resolver does not pick musl builds (gradle/foojay-toolchains#5): the fix does not promise it', () => {
    expect(all(top(probe('openjdk:17-alpine', 'adoptium-8-x64-hotspot-linux')))).not.toMatch(/provision musl builds \(foojay/)
  })
  it('F21: the image suggested has the toolchain\'s version (21 here), not a fixed 8', () => {
    const d = top(probe('gradle:8-jdk17-alpine', 'amazon-corretto-21/amazon-corretto-21.0.3.9.1-linux-x64'))
    expect(d?.category).toBe('binary_loader_missing')
    expect(all(d)).not.toContain('eclipse-temurin:8-jdk')
  })
})

describe('runner.ts: SERVER_ERROR', () => {
  it('F22: node-coveralls\' "Bad response: 502" with the service\'s HTML error page is the service, not GitLab', () => {
    expect(top(step('$ cat coverage/lcov.info | npx coveralls', 'Bad response: 502 <html>', '<head><title>502 Bad Gateway</title></head>', '<body><center><h1>502 Bad Gateway</h1></center></body>', '</html>'))?.category).toBe('upstream_service_unavailable')
  })
  it('F23: a long run of blanks after "HTTP" is read in linear time ("\\s*:?\\s*" is quadratic: ~2 s at 80 000 characters)', () => {
    expectLinear((k) => { const log = step('$ ./report.sh', `HTTP${' '.repeat(sized(80_000, k))}x`); return () => run(log) })
  })
  it('guard: node-coveralls\' JSON body stays the service', () => {
    expect(top(step('> nyc report --reporter=text-lcov | coveralls', '/builds/acme/app/node_modules/coveralls/bin/coveralls.js:19', '      throw err;', 'Bad response: 500 {"message":"Build processing error.","error":true,"url":""}'))?.category).toBe('upstream_service_unavailable')
  })
})

describe('trace-keep.ts: thinKeepingEchoes() in the stream reader', () => {
  async function* chunks(s: string, size = 65_521): AsyncGenerator<string> {
    for (let i = 0; i < s.length; i += size) yield s.slice(i, i + size)
  }
  /** A command echo, twelve thousand kept warnings (the middle overflows), then the daemon refusal. */
  const buried = (echo: string): string => {
    const out = ['Running with gitlab-runner 17.5.0 (c6eae8ea)', 'Preparing the "docker" executor', 'Using Docker executor with image docker:24 ...', 'Executing "step_script" stage of the job script']
    for (let i = 0; i < 600; i++) out.push(`filler ${i}`)
    out.push('$ echo start', echo)
    for (let i = 0; i < 12_000; i++) out.push(`src/mod_${i % 97}/f_${i}.c:${i}:7: warning: unused variable 'tmp' [-Wunused-variable]`)
    out.push('Cannot connect to the Docker daemon at tcp://docker:2375. Is the docker daemon running?', 'ERROR: Job failed: exit code 1')
    return out.join('\n')
  }
  const buildEcho = (args: number): string => `$ docker build ${Array.from({ length: args }, (_, i) => `--build-arg ARG_${i}=value_${i}`).join(' ')} -t app .`
  const both = async (log: string) => [reportJson(diagnose({ trace: parseTrace(log) })), reportJson(diagnose({ trace: await parseTraceStream(chunks(log)) }))]

  it('F24: an echo longer than 2 000 characters is not dropped: the streamed report then cites the previous command ("$ echo start")', async () => {
    const [whole, streamed] = await both(buried(buildEcho(100)))
    expect(streamed).toEqual(whole)
  })
  it('F25: the pinned echoes stay within the reader\'s limits (at most head + 2 × tail + middle lines kept)', async () => {
    const limits = { ...STREAM_LIMITS, headLines: 20, tailLines: 100, middleLines: 50 }
    const lines = ['Executing "step_script" stage of the job script']
    for (let i = 0; i < 3_000; i++) lines.push(`$ make part-${i}`, `built part ${i}`)
    lines.push('ERROR: Job failed: exit code 1')
    const t = await parseTraceStream(chunks(lines.join('\n')), limits)
    expect(t.lines.length).toBeLessThanOrEqual(limits.headLines + 2 * limits.tailLines + limits.middleLines)
  })
  it('guard: a short echo in the middle agrees', async () => {
    const [whole, streamed] = await both(buried(buildEcho(40)))
    expect(streamed).toEqual(whole)
  })
})

describe('docs/failure-taxonomy.md: the new signatures are documented', () => {
  const doc = readFileSync(new URL('../../docs/failure-taxonomy.md', import.meta.url), 'utf8')
  it.each([
    ['dind_bind_mount_path', 'Bundling did not produce any output'],
    ['seccomp_blocks_new_syscalls', "cannot access '/usr/"],
    ['dind_service_missing', 'No <dockerHost> given'],
    ['image_entrypoint_override', 'Unrecognized option: -c'],
    ['git_detached_head', 'HEAD detached from'],
    ['binary_loader_missing', 'could not be probed'],
    ['upstream_service_unavailable', 'Bad response: 5'],
  ])('F26: %s lists "%s"', (_category, signature) => {
    expect(doc.includes(signature), signature).toBe(true)
  })
})
