import { type Hit, Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * gpu_unavailable_in_job (proposed by the corpus's twenty-fourth pass): a job meant for a GPU finds
 * none — the runner does not hand the GPU to its containers (no `gpus` in [runners.docker], no NVIDIA
 * Container Toolkit on the host, no GPU resource on the pod), the job landed on a runner without one,
 * or the host's driver is broken. Wordings: the Docker daemon's device request with no driver for it
 * (daemon/devices.go), nvidia-smi's own, PyTorch's (c10/cuda), and nvidia-smi missing from the job.
 */

const NO_DRIVER = /could not select device driver "" with capabilities: \[\[gpu\]\]|NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver|Found no NVIDIA driver on your system|RuntimeError: No CUDA GPUs are available|CUDA driver initialization failed, you might not have a CUDA gpu|no CUDA-capable device is detected|^Failed to initialize NVML: |nvidia-container-cli: initialization error: load library failed: libnvidia-ml\.so|unknown or invalid runtime name: nvidia\b/
// nvidia-smi comes with the driver, mounted into containers by the NVIDIA runtime: missing means no GPU was handed in.
// (bash, dash and ash; the Kubernetes executor's script file; PowerShell.)
const NO_SMI = /^(?:(?:\/usr)?\/bin\/)?(?:ba|da|a)?sh: (?:line \d+: |\d+: )?nvidia-smi: (?:command )?not found$|^nvidia-smi: command not found$|^\S+: line \d+: nvidia-smi: (?:command )?not found$|The term 'nvidia-smi' is not recognized/
// PyTorch asking whether a GPU is there warns with the same words on every CPU runner: only a raised error counts.
const WARNING = /UserWarning|warnings\.warn/

function gpu(s: Scan): Diagnosis[] {
  const usable = (h: Hit): boolean => !WARNING.test(h.line.text) && !s.wentPast(h.line) && !s.inAfterScript(h.line)
  const hit = s.all(NO_DRIVER).filter(usable).pop() ?? s.all(NO_SMI).filter(usable).pop()
  if (!hit) return []
  const daemon = /could not select device driver|nvidia-container-cli|invalid runtime name/.test(hit.line.text)
  // A dind service is the daemon that refused: the runner's own gpus setting does not reach it.
  const dind = daemon && s.hasDind()
  const toolkit: Fix = /invalid runtime name/.test(hit.line.text)
    ? { text: 'The runner asks for the "nvidia" runtime (runtime = "nvidia"), which this Docker daemon does not have: install the NVIDIA Container Toolkit and register it, or drop runtime and hand GPUs in with gpus = "all".', snippet: 'nvidia-ctk runtime configure --runtime=docker && systemctl restart docker\n# config.toml\n[runners.docker]\n  gpus = "all"' }
    : { text: 'Install the NVIDIA Container Toolkit on the host whose Docker daemon runs the containers, and register it with Docker (the host\'s driver must work: nvidia-smi there).', snippet: 'nvidia-ctk runtime configure --runtime=docker && systemctl restart docker\ndocker run --rm --gpus all nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi' }
  const runner: Fix = dind
    ? { text: 'The daemon that refused is the dind service\'s, which has no NVIDIA runtime: run the GPU work in the job container itself (a CUDA image, with gpus = "all" on the runner), or use the GPU host\'s own Docker socket instead of dind.', snippet: 'train:\n  image: nvidia/cuda:12.4.1-runtime-ubuntu22.04\n  tags: [gpu]\n# config.toml of the GPU runner\n[runners.docker]\n  gpus = "all"' }
    : daemon ? toolkit
    : s.family === 'kubernetes'
    ? { text: 'Kubernetes executor: request a GPU for the build container and schedule it on GPU nodes (the NVIDIA device plugin must run there).', snippet: '[runners.kubernetes]\n  node_selector = { "nvidia.com/gpu.present" = "true" }\n[[runners.kubernetes.pod_spec]]\n  name = "gpu"\n  patch_type = "strategic"\n  patch = \'\'\'\n    containers:\n      - name: build\n        resources:\n          limits:\n            nvidia.com/gpu: 1\n  \'\'\'' }
    : s.family === 'shell'
      ? { text: 'Shell executor: the job sees the host\'s driver directly; install or repair the NVIDIA driver on the runner host (nvidia-smi must work there as the runner user).', snippet: 'sudo -u gitlab-runner nvidia-smi' }
      : { text: 'Docker executor: hand the GPUs to job containers, with the NVIDIA Container Toolkit installed and registered on the runner host.', snippet: '[runners.docker]\n  gpus = "all"\n# on the host: nvidia-ctk runtime configure --runtime=docker && systemctl restart docker' }
  return [diagnosis('gpu_unavailable_in_job', dind ? 'The dind service\'s Docker cannot run GPU containers' : daemon ? 'The runner\'s Docker cannot give the job a GPU' : 'The job has no usable GPU',
    daemon
      ? `"${hit.line.text.trim().slice(0, 160)}": GPUs were asked for, and ${dind ? 'the Docker daemon of the dind service' : 'the Docker daemon'} has no working NVIDIA runtime for them: the NVIDIA Container Toolkit is not installed or registered${dind ? ' in that service (it never is in the docker:dind image)' : ', or the host\'s driver library is missing'}.`
      : `"${hit.line.text.trim().slice(0, 160)}": the job expects an NVIDIA GPU, but its ${s.family === 'shell' ? 'host' : 'container'} has none it can use — the runner does not pass the GPU in, the job ran on a runner without one, or the host's driver is not working.`,
    evidence(s.commandAt(hit.line.n), hit), [
      runner,
      // The daemon of a Docker-executor runner also starts the job containers: they get the GPU through the runner's gpus.
      ...(daemon && !dind && s.family === 'docker' ? [{ text: 'For the job container itself, the Docker executor hands GPUs in when the runner says so.', snippet: '[runners.docker]\n  gpus = "all"' }] : []),
      { text: 'Route GPU jobs to GPU runners with a tag that only those runners carry.', snippet: 'train:\n  tags: [gpu]' },
      { text: 'Check the driver on the runner host first.', snippet: 'nvidia-smi\ndocker run --rm --gpus all nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi' },
    ], 0.9)]
}

export const gpuRule: Rule = {
  id: 'gpu',
  categories: ['gpu_unavailable_in_job'],
  match(ev) {
    return gpu(Scan.of(ev))
  },
}
