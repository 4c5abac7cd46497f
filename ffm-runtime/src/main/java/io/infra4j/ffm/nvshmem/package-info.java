/**
 * NVSHMEM's host API, as DeepEP uses it: whether libnvshmem_host is here
 * ({@link io.infra4j.ffm.nvshmem.Nvshmem}), the id that processes share to meet
 * ({@link io.infra4j.ffm.nvshmem.NvshmemUniqueId}), this process's PE in a world of one PE per process
 * and GPU ({@link io.infra4j.ffm.nvshmem.NvshmemWorld}: barriers, quiet, on-stream puts and gets) and
 * buffers on the symmetric heap ({@link io.infra4j.ffm.nvshmem.NvshmemBuffer}).
 *
 * <p>Initialisation goes through {@code nvshmemx_hostlib_init_attr}, as NVSHMEM4Py's does: the
 * header's {@code nvshmemx_init_attr} is an inline over a function of NVSHMEM's static device library
 * that the host library does not export. Kernels of our own that call NVSHMEM's device API would link
 * that library and initialise their module with it. Arguments are checked in Java before any native
 * call; a failed NVSHMEM call becomes an {@link io.infra4j.ffm.nvshmem.NvshmemException}.
 */
package io.infra4j.ffm.nvshmem;
