package io.infra4j.threefs;

import java.util.Map;

/** Names of the errno values USRBIO reports, for messages (Linux x86-64 numbering). */
public final class Errno {
    public static final int EPERM = 1, ENOENT = 2, EIO = 5, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14,
            EEXIST = 17, EISDIR = 21, EINVAL = 22, ENOSPC = 28, ETIME = 62, EOPNOTSUPP = 95;

    private static final Map<Integer, String> NAMES = Map.ofEntries(Map.entry(EPERM, "EPERM (operation not permitted)"),
            Map.entry(ENOENT, "ENOENT (no such file or directory)"), Map.entry(EIO, "EIO (input/output error)"),
            Map.entry(EBADF, "EBADF (bad or unregistered file descriptor)"), Map.entry(EAGAIN, "EAGAIN (ring full, try again)"),
            Map.entry(ENOMEM, "ENOMEM (out of memory)"), Map.entry(EACCES, "EACCES (file not open for this direction)"),
            Map.entry(EFAULT, "EFAULT (bad address)"), Map.entry(EEXIST, "EEXIST (exists)"), Map.entry(EISDIR, "EISDIR (is a directory)"),
            Map.entry(EINVAL, "EINVAL (invalid argument)"), Map.entry(ENOSPC, "ENOSPC (no space left on device)"),
            Map.entry(ETIME, "ETIME (timer expired)"), Map.entry(EOPNOTSUPP, "EOPNOTSUPP (not supported)"));

    private Errno() {}

    /** {@code EBADF (bad or unregistered file descriptor), errno 9}. */
    public static String describe(int errno) {
        int e = Math.abs(errno);
        return NAMES.getOrDefault(e, "errno") + ", errno " + e;
    }
}
