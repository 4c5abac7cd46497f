/**
 * cuBLASLt, for the matrix products infra4j does not compute with its own kernels (and as the peer
 * they are measured against): whether libcublasLt is here ({@link io.infra4j.ffm.cublas.CublasLt}),
 * handles with their workspace ({@link io.infra4j.ffm.cublas.CublasLtHandle}), and the descriptors a
 * matmul is planned with ({@link io.infra4j.ffm.cublas.CublasLtMatmulDesc},
 * {@link io.infra4j.ffm.cublas.CublasLtMatrixLayout}, {@link io.infra4j.ffm.cublas.CublasLtPreference},
 * {@link io.infra4j.ffm.cublas.CublasLtAlgo}). Arguments are checked in Java before any native call;
 * a failed cuBLASLt call becomes a {@link io.infra4j.ffm.cublas.CublasLtException}.
 */
package io.infra4j.ffm.cublas;
