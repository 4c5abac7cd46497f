package io.infra4j.cli;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.KernelLibrary;
import io.infra4j.memory.Device;

/**
 * Where the demo runs and why, in words a user can act on. {@code auto} takes GPU 0 only when both
 * the CUDA runtime and infra4j's kernels are usable, since the GPU path of every op needs both.
 */
record DeviceChoice(Device device, String reason) {

    static DeviceChoice choose(String request) {
        if (request.equals("cpu")) {
            return new DeviceChoice(Device.CPU, "CPU path, as asked (--device cpu)");
        }
        String why = gpuUnusableReason();
        if (request.equals("auto")) {
            if (why != null) {
                return new DeviceChoice(Device.CPU, "no GPU: running on the CPU path (" + why + ")");
            }
            return new DeviceChoice(Device.cuda(0), "GPU 0 (" + Cuda.device(0).name()
                    + "): CUDA and the infra4j kernels are available");
        }
        Device d = Device.parse(request);
        if (why != null) {
            throw new IllegalStateException("--device " + request + ": no usable GPU here: " + why);
        }
        if (d.index() >= Cuda.deviceCount()) {
            throw new IllegalStateException("--device " + request + ": this machine has " + Cuda.deviceCount() + " GPU(s)");
        }
        return new DeviceChoice(d, "GPU " + d.index() + " (" + Cuda.device(d.index()).name() + "), as asked");
    }

    /** Null when a GPU can run the demo; else the first line of why not. */
    private static String gpuUnusableReason() {
        if (!Cuda.isAvailable()) {
            return TextFormat.reason(Cuda.unavailableReason());
        }
        if (!KernelLibrary.isAvailable()) {
            return "CUDA works but the infra4j kernels do not: " + TextFormat.reason(KernelLibrary.unavailableReason());
        }
        return null;
    }
}
