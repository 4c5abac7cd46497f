/**
 * NCCL, for collectives and point-to-point transfers between GPUs: whether libnccl is here
 * ({@link io.infra4j.ffm.nccl.Nccl}), the id that ranks share to meet
 * ({@link io.infra4j.ffm.nccl.NcclUniqueId}) and communicators ({@link io.infra4j.ffm.nccl.NcclComm}).
 * Arguments are checked in Java before any native call; a failed NCCL call becomes an
 * {@link io.infra4j.ffm.nccl.NcclException}.
 */
package io.infra4j.ffm.nccl;
