import { type Hit, Scan, diagnosis, evidence } from '../scan.js'
import type { Diagnosis, Fix, Rule } from '../types.js'

/**
 * gpu_unavailable_in_job (proposed by the corpus's twenty-fourth pass): a job meant for a GPU finds
 * none — the runner does not hand the GPU to its containers (no `gpus` in [runners.docker], no NVIDIA
 * Container Toolkit on the host, no GPU resource on the pod), the job landed on a runner without one,
 * or the host's driver is broken. Wordings: the Docker daemon's device request with no driver for it
 * (daemon/devices.go), nvidia-smi's own, PyTorch's (c10/cuda), and nvidia-smi missing from the job.
 */

const NO_DRIVER = /could not select device driver "" with capabilities: \[\[gpu\]\]|NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver|Found no NVIDIA driver on your system|RuntimeError: No CUDA GPUs are available|CUDA driver initialization failed, you might not have a CUDA gpu|no CUDA-capable device is detected|^Failed to initialize NVML: (.+)$|nvidia-container-cli: initialization error: load library failed: libnvidia-ml\.so|unknown or invalid runtime name: nvidia\b/
// nvidia-smi comes with the driver, mounted into containers by the NVIDIA runtime: missing means no GPU was handed in.
// (bash, dash and ash; the Kubernetes executor's script file; PowerShell.)
const NO_SMI = /^(?:(?:\/usr)?\/bin\/)?(?:ba|da|a)?sh: (?:line \d+: |\d+: )?nvidia-smi: (?:command )?not found$|^nvidia-smi: command not found$|^\S+: line \d+: nvidia-smi: (?:command )?not found$|The term 'nvidia-smi' is not recognized/
// PyTorch asking whether a GPU is there warns with the same words on every CPU runner, and TensorFlow logs its
// failed cuInit and goes on with the CPU: only a raised error counts.
const WARNING = /UserWarning|warnings\.warn|failed call to cuInit/

function gpu(s: Scan): Diagnosis[] {
  const usable = (h: Hit): boolean => !WARNING.test(h.line.text) && !s.inAfterScript(h.line) && !s.wentPast(h.line)
  // A probe for nvidia-smi the script went on from (a CPU fallback) is background when something else failed later.
  const hit = s.lastWhere(NO_DRIVER, usable) ?? s.lastWhere(NO_SMI, (h) => usable(h) && !s.failsAfter(h.line.n, /nvidia|cuda|gpu/i))
  if (!hit) return []
  const daemon = /could not select device driver|nvidia-container-cli|invalid runtime name/.test(hit.line.text)
  // The runner's own daemon speaks before any script (a system failure); a dind service only answers the script.
  const scriptSide = s.commandAt(hit.line.n) !== undefined && !/system failure/.test(hit.line.text)
  // A dind service is the daemon that refused: the runner's own gpus setting does not reach it.
  const dind = daemon && scriptSide && s.hasDind()
  const nvml = /^Failed to initialize NVML: (.+)$/.exec(hit.line.text)?.[1]
  const own = scriptSide && /--runtime[= ]nvidia/.test(s.commandAt(hit.line.n)?.text ?? '')
  const toolkit: Fix = own
    ? { text: 'The script\'s docker run asks for the "nvidia" runtime, which this daemon does not have: install and register the NVIDIA Container Toolkit, or ask for GPUs with --gpus (the toolkit\'s current way).', snippet: 'docker run --rm --gpus all <image> nvidia-smi\n# on the daemon\'s host: nvidia-ctk runtime configure --runtime=docker && systemctl restart docker' }
    : /invalid runtime name/.test(hit.line.text)
    ? { text: 'The runner asks for the "nvidia" runtime (runtime = "nvidia"), which this Docker daemon does not have: install the NVIDIA Container Toolkit and register it, or drop runtime and hand GPUs in with gpus = "all".', snippet: 'nvidia-ctk runtime configure --runtime=docker && systemctl restart docker\n# config.toml\n[runners.docker]\n  gpus = "all"' }
    : { text: 'Install the NVIDIA Container Toolkit on the host whose Docker daemon runs the containers, and register it with Docker (the host\'s driver must work: nvidia-smi there).', snippet: 'nvidia-ctk runtime configure --runtime=docker && systemctl restart docker\ndocker run --rm --gpus all nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi' }
  const runner: Fix = nvml && /version mismatch/i.test(nvml)
    ? { text: 'The host\'s NVIDIA driver was upgraded without a reboot: the loaded kernel module and the new user-space library differ. Reboot the GPU host (or reload the nvidia kernel modules).', snippet: 'cat /proc/driver/nvidia/version; nvidia-smi\nsudo reboot   # or: sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && sudo modprobe nvidia' }
    : nvml && /Unknown Error/i.test(nvml)
    ? { text: 'Containers lose their GPUs when systemd reloads (daemon-reload) under the systemd cgroup driver — NVIDIA\'s known issue: create the /dev/char symlinks on the host (or use the cgroupfs driver), and restart the runner\'s containers.', snippet: 'sudo nvidia-ctk system create-dev-char-symlinks --create-all\n# or in /etc/docker/daemon.json: "exec-opts": ["native.cgroupdriver=cgroupfs"]' }
    : s.onInstance()
    ? { text: 'Instance executor: the job runs on the VM itself. Use a GPU instance type and a VM image with the NVIDIA driver (and the Container Toolkit, for docker run --gpus inside the job).', snippet: '# the autoscaler plugin\'s instance group: a GPU instance type\n# the VM image: the NVIDIA driver installed, nvidia-smi working' }
    : dind
    ? { text: 'The daemon that refused is the dind service\'s, which has no NVIDIA runtime: run the GPU work in the job container itself (a CUDA image, with gpus = "all" on the runner), or use the GPU host\'s own Docker socket instead of dind.', snippet: 'train:\n  image: nvidia/cuda:12.4.1-runtime-ubuntu22.04\n  tags: [gpu]\n# config.toml of the GPU runner\n[runners.docker]\n  gpus = "all"' }
    : daemon ? toolkit
    : s.family === 'kubernetes'
    ? { text: 'Kubernetes executor: request a GPU for the build container and schedule it on GPU nodes (the NVIDIA device plugin must run there).', snippet: '[runners.kubernetes]\n  node_selector = { "nvidia.com/gpu.present" = "true" }\n[[runners.kubernetes.pod_spec]]\n  name = "gpu"\n  patch_type = "strategic"\n  patch = \'\'\'\n    containers:\n      - name: build\n        resources:\n          limits:\n            nvidia.com/gpu: 1\n  \'\'\'' }
    : s.family === 'shell'
      ? { text: 'Shell executor: the job sees the host\'s driver directly; install or repair the NVIDIA driver on the runner host (nvidia-smi must work there as the runner user).', snippet: 'sudo -u gitlab-runner nvidia-smi' }
      : { text: 'Docker executor: hand the GPUs to job containers, with the NVIDIA Container Toolkit installed and registered on the runner host.', snippet: '[runners.docker]\n  gpus = "all"\n# on the host: nvidia-ctk runtime configure --runtime=docker && systemctl restart docker' }
  return [diagnosis('gpu_unavailable_in_job', dind ? 'The dind service\'s Docker cannot run GPU containers' : daemon ? 'The runner\'s Docker cannot give the job a GPU' : nvml ? 'NVIDIA\'s driver does not answer in the job' : 'The job has no usable GPU',
    daemon
      ? `"${hit.line.text.trim().slice(0, 160)}": GPUs were asked for, and ${dind ? 'the Docker daemon of the dind service' : 'the Docker daemon'} has no working NVIDIA runtime for them: the NVIDIA Container Toolkit is not installed or registered${dind ? ' in that service (it never is in the docker:dind image)' : ', or the host\'s driver library is missing'}.`
      : `"${hit.line.text.trim().slice(0, 160)}": the job expects an NVIDIA GPU, but its ${s.onInstance() ? 'VM' : s.family === 'shell' ? 'host' : 'container'} has none it can use — the runner does not pass the GPU in, the job ran on a runner without one, or the host's driver is not working.`,
    evidence(s.commandAt(hit.line.n), hit), [
      runner,
      // The daemon of a Docker-executor runner also starts the job containers: they get the GPU through the runner's gpus.
      ...(daemon && !dind && s.family === 'docker' ? [{ text: 'For the job container itself, the Docker executor hands GPUs in when the runner says so.', snippet: '[runners.docker]\n  gpus = "all"' }] : []),
      { text: 'Route GPU jobs to GPU runners with a tag that only those runners carry.', snippet: 'train:\n  tags: [gpu]' },
      { text: s.onInstance() ? 'Check the driver on a VM booted from the same image.' : 'Check the driver on the runner host first.', snippet: 'nvidia-smi\ndocker run --rm --gpus all nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi' },
    ], 0.9)]
}

export const gpuRule: Rule = {
  id: 'gpu',
  categories: ['gpu_unavailable_in_job'],
  match(ev) {
    return gpu(Scan.of(ev))
  },
}
