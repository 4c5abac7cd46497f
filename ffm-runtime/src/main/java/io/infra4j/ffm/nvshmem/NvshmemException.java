package io.infra4j.ffm.nvshmem;

/**
 * An NVSHMEM call failed: carries the status ({@code enum nvshmemx_status}, or another non-zero value
 * a call returned), its name and the call with the arguments that identify it. NVSHMEM prints its
 * own account of the failure to stderr (more with {@code NVSHMEM_DEBUG=INFO}).
 */
public class NvshmemException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String statusName;
    private final String call;

    public NvshmemException(int code, String statusName, String call) {
        this(code, statusName, call, "NVSHMEM's own message is on stderr; NVSHMEM_DEBUG=INFO says more");
    }

    /** With {@code detail} in place of the pointer to NVSHMEM's own message. */
    public NvshmemException(int code, String statusName, String call, String detail) {
        super(call + " failed: " + statusName + " (" + code + "): " + detail);
        this.code = code;
        this.statusName = statusName;
        this.call = call;
    }

    /** The status the call returned. */
    public int code() {
        return code;
    }

    /** The symbolic name of {@link #code()}, e.g. {@code NVSHMEMX_ERROR_INTERNAL}. */
    public String statusName() {
        return statusName;
    }

    /** The NVSHMEM function that failed, with the arguments that identify it. */
    public String call() {
        return call;
    }
}
