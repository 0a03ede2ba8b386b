import { describe, expect, it } from 'vitest'
import { all, cats, step, top } from '../../test/support/diagnose-log.js'

// The twentieth rule pass (batch 20's dev entries and the tools' wordings): coreutils refused by seccomp,
// Docker clients of Maven plugins without a daemon, the Java launcher as an ENTRYPOINT, Gradle's release
// plugin on a detached HEAD, bind mounts the daemon made from its own directories, Gradle's provisioned JDK
// on musl, third-party uploaders' 5xx, and the new classes ci_before_sha_zero and artifacts_report_rejected.

describe('script.ts: coreutils refused by an old runtime\'s seccomp', () => {
  it('"cannot access \'/usr/bin/mvn\': Operation not permitted" on a file of the image', () => {
    const log = ['Preparing the "docker" executor', 'Using Docker executor with image maven:3-jdk-11 ...', 'Executing "step_script" stage of the job script', '$ mvn clean package -U', "ls: cannot access '/usr/bin/mvn': Operation not permitted", 'ERROR: Job failed: exit code 1'].join('\n')
    expect(top(log)?.category).toBe('seccomp_blocks_new_syscalls')
  })
  it('guard: a file of the checkout refused stays elsewhere', () => {
    expect(cats(step('$ ls build', "ls: cannot access '/builds/acme/app/build': Operation not permitted"))).not.toContain('seccomp_blocks_new_syscalls')
  })
})

describe('dind.ts: Docker clients inside Maven plugins', () => {
  it('fabric8\'s docker-maven-plugin with no daemon', () => {
    expect(top(step('$ mvn deploy', "[ERROR] Failed to execute goal io.fabric8:docker-maven-plugin:0.39.1:build (default) on project app: Execution default of goal io.fabric8:docker-maven-plugin:0.39.1:build failed: No <dockerHost> given, no DOCKER_HOST environment variable, no read/writable '/var/run/docker.sock' or '//./pipe/docker_engine' and no external provider like Docker machine configured -> [Help 1]"))?.category).toBe('dind_service_missing')
  })
  it('spotify\'s docker-maven-plugin on the socket that is not there', () => {
    expect(top(step('$ mvn package docker:build', 'INFO: I/O exception (java.io.IOException) caught when processing request to {}->unix://localhost:80: No such file or directory'))?.category).toBe('dind_service_missing')
  })
})

describe('image.ts: the Java launcher as the image\'s ENTRYPOINT', () => {
  it('"Error: Unrecognized option: -c" with no script line', () => {
    expect(top(['Preparing the "docker" executor', 'Using Docker executor with image quay.io/quarkus/ubi-quarkus-mandrel:21.2-java11 ...', 'Executing "step_script" stage of the job script', 'Error: Unrecognized option: -c', 'Error: Could not create the Java Virtual Machine.', 'ERROR: Job failed: exit code 1'].join('\n'))?.category).toBe('image_entrypoint_override')
  })
})

describe('detached-head.ts: a branch name read from a detached HEAD', () => {
  it('the Gradle release plugin pushing to "(HEAD detached from <sha>)"', () => {
    expect(top(step('$ ./gradlew release', 'Execution failed for task \\\':api:preTagCommit\\\'.', "> Failed to push to remote - [[fatal: invalid refspec \\'(HEAD detached from 2a50e314)"))?.category).toBe('git_detached_head')
  })
})

describe('build-deploy.ts: bind mounts through the daemon that come up empty', () => {
  it('AWS CDK\'s bundling', () => {
    expect(top(step('$ npx cdk synth', 'Error: Bundling did not produce any output. Check that content is written to /asset-output.'))?.category).toBe('dind_bind_mount_path')
  })
  it('a tool\'s echoed docker run -v /builds/…:/var/task, then the file missing there', () => {
    const d = top(step('$ serverless deploy', "Serverless: Running docker run --rm -v /builds/acme/fn/.serverless/requirements\\:/var/task\\:z lambci/lambda\\:build-python3.8 /bin/sh -c 'pip install -r /var/task/requirements.txt'...", "Serverless: Stderr: ERROR: Could not open requirements file: [Errno 2] No such file or directory: '/var/task/requirements.txt'"))
    expect(d?.category).toBe('dind_bind_mount_path')
  })
  it('guard: a missing file elsewhere after a docker run is not', () => {
    expect(cats(step('$ docker run --rm -v /builds/acme/app:/src alpine ls /src', 'ls: /data/input.csv: No such file or directory'))).not.toContain('dind_bind_mount_path')
  })
})

describe('packages.ts: Gradle\'s provisioned JDK', () => {
  it('could not be probed (a glibc JDK on Alpine)', () => {
    const log = ['Using Docker executor with image openjdk:17-alpine ...', 'Executing "step_script" stage of the job script', '$ ./gradlew build', "      > Provisioned toolchain '/builds/acme/app/.gradle/jdks/adoptium-8-x64-hotspot-linux' could not be probed.", 'ERROR: Job failed: exit code 1'].join('\n')
    const d = top(log)
    expect(d?.category).toBe('binary_loader_missing')
    expect(d?.cause).toContain('Alpine (musl)')
  })
})

describe('runner.ts: a third-party uploader\'s own 5xx', () => {
  it('node-coveralls\' "Bad response: 500" is the service, not GitLab', () => {
    expect(top(step('> nyc report --reporter=text-lcov | coveralls', '/builds/acme/app/node_modules/coveralls/bin/coveralls.js:19', '      throw err;', 'Bad response: 500 {"message":"Build processing error.","error":true,"url":""}'))?.category).toBe('upstream_service_unavailable')
  })
})

describe('before-sha.ts: ci_before_sha_zero', () => {
  it('a commit range from forty zeros', () => {
    const d = top(step('$ dco-check', 'Checking commits: 0000000000000000000000000000000000000000..10310dbd8c3ac5e8e505a9292becaede0bfeff1a', 'error: fatal: Invalid revision range 0000000000000000000000000000000000000000..10310dbd8c3ac5e8e505a9292becaede0bfeff1a'))
    expect(d?.category).toBe('ci_before_sha_zero')
    expect(all(d)).toContain('git merge-base')
  })
  it('git diff against it', () => {
    expect(top(step('$ git diff --name-only $CI_COMMIT_BEFORE_SHA $CI_COMMIT_SHA', 'fatal: bad object 0000000000000000000000000000000000000000'))?.category).toBe('ci_before_sha_zero')
  })
  it('guard: zeros printed without a refusal are not', () => {
    expect(cats(step('$ echo $CI_COMMIT_BEFORE_SHA', '0000000000000000000000000000000000000000', '$ make test', 'FAIL: test_total'))).not.toContain('ci_before_sha_zero')
  })
})

describe('artifacts.ts: artifacts_report_rejected', () => {
  it('"only one file can be sent as raw" for a code quality report', () => {
    const log = ['Executing "step_script" stage of the job script', '$ hadolint -f gitlab_codeclimate Dockerfile* > hadolint-$CI_COMMIT_SHORT_SHA.json', 'Uploading artifacts for successful job', 'Uploading artifacts...', 'hadolint-*.json: found 2 matching files and directories', 'ERROR: Uploading artifacts as "codequality" to coordinator... error  error=couldn\'t execute POST against https://gitlab.example.com/api/v4/jobs/209298/artifacts?artifact_format=raw&artifact_type=codequality&expire_in=1+day: Post "https://gitlab.example.com/api/v4/jobs/209298/artifacts?artifact_format=raw&artifact_type=codequality&expire_in=1+day": only one file can be sent as raw id=209298 token=xyz', 'WARNING: Retrying...                                context=artifacts-uploader error=invalid argument', 'ERROR: Job failed: exit code 1'].join('\n')
    const d = top(log)
    expect(d?.category).toBe('artifacts_report_rejected')
    expect(d?.title).toContain('codequality')
  })
})

describe('config.ts: which variable of a quoted argument was empty (rv5\'s note)', () => {
  it('names only the variable that expanded to nothing in the value the tool quoted', () => {
    const d = top(step('$ docker build -t $REGISTRY_IMAGE:$RELEASE_TAG .', 'invalid argument "registry.example.com/g/p:" for "-t, --tag" flag: invalid reference format', "See 'docker build --help'."))
    expect(d?.category).toBe('protected_variable_unavailable')
    expect(d?.title).toBe('$RELEASE_TAG is empty in this job')
  })
  it('guard: without a quoted value every variable of the command is named', () => {
    expect(top(step('$ docker push $IMAGE:$TAG', 'invalid reference format'))?.title).toBe('$IMAGE, $TAG are empty in this job')
  })
})
