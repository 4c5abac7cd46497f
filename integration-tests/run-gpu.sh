#!/usr/bin/env bash
# The GPU suite in one command.
#
#   integration-tests/run-gpu.sh bundle          here (a machine with a JDK 25, Maven and nvcc): builds
#                                                the project and assembles .device/ (ignored by git): the
#                                                jars, libinfra4j_cuda.so, the C call-overhead program, a
#                                                Java runtime made by ../shared/tools/device-jre, and the
#                                                JUnit console launcher.
#   integration-tests/run-gpu.sh run OUT [what]  on the GPU machine (no JDK needed): runs every @Tag("gpu")
#                                                test, then the GPU benchmarks (JMH downcalls and codecs,
#                                                the C baseline, kernels with the PyTorch peer), writing
#                                                full logs to OUT and a summary to stdout. what: all
#                                                (default); tests (GPU tests and the PyTorch codec
#                                                parity); bench (JMH, C baseline, kernels, PyTorch peer);
#                                                smoke (two test classes: a quick check of the bundle);
#                                                mla (the MLA tests and benchmark only); gemm (the FP8
#                                                quantisation and GEMM tests and benchmark); ep (the
#                                                expert-parallel dispatch tests and benchmark; EP_ONLY=
#                                                a subset of its configurations); multi (2 GPUs or
#                                                more: the NCCL and expert-parallel tests, NCCL bandwidth
#                                                against PyTorch's NCCL, DualPipe training over NCCL, expert-
#                                                parallel dispatch against an NCCL all-to-all; 'all' runs it too);
#                                                io (the safetensors checkpoint loader's GPU test).
#                                                Each stage has a time limit (STAGE_LIMIT_* seconds) so
#                                                that the logs always come back.
#   integration-tests/run-gpu.sh bundle-pond     here: smallpond's own bundle in .device/pond (DuckDB's
#                                                library does not fit beside the GPU bundle); carry
#                                                .device/pond and run
#   integration-tests/run-gpu.sh run-pond OUT    on the GPU machine: touches POND_WARM_GB (48) of memory
#                                                first, prints probes/cpu_scaling.py, runs infra4j sort, then
#                                                GraySort of POND_SIZE bytes (default 10 GB) through smallpond
#                                                against one DuckDB query, and the scaling of its stages with
#                                                cores beside the query's (POND_DIR: where the data go,
#                                                default /tmp).
#   MLA_AB="VAR=value ..." with mla: after the default runs, the MLA tests and benchmark run again
#                                                under those variables (a kernel switch), in the same
#                                                command, so the two tables compare on one warm GPU; the
#                                                variant's tables go to OUT/ab-*.md, not to the results.
#   MLA_TRACE=1 run-gpu.sh bundle                also builds the MLA kernels with -DINFRA4J_MLA_TRACE (a
#                                                clock64 stamp at each step of tiles 8..23 of one CTA);
#   integration-tests/run-gpu.sh run OUT trace "b128 hq64 sq1 sk32768 fp8" ...
#                                                then prints those stamps for each benchmark config named
#                                                (kernel switches pass through the environment).
#
# With the device tool: bundle here, then run with carry [".device"] the command
#   bash integration-tests/run-gpu.sh run "$OUT"
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dev=$root/.device
NATIVE_ACCESS=io.infra4j.bindings,io.infra4j.ffm,io.infra4j.memory,io.infra4j.threefs,io.infra4j.smallpond
# The tests run from the class path, outside the module io.infra4j.integration that deepgemm exports its
# internal package (the cuBLASLt path) to: give that export to the class path too.
TEST_EXPORTS=--add-exports=io.infra4j.deepgemm/io.infra4j.deepgemm.internal=ALL-UNNAMED

bundle() {
  set -e
  cd "$root"
  echo "run-gpu: building (tests skipped here; they run in CI)"
  ./mvnw -B -q -ntp -DskipTests install
  rm -rf "$dev/bundle"
  mkdir -p "$dev/bundle/mods" "$dev/bundle/cp" "$dev/bundle/native"
  # infra4j's runtime modules and what they need: the module path, native access for three of them.
  # dualpipe (the NCCL communicator's tests), eplb, flashmla, deepgemm and deepep make no native calls of their own;
  # threefs does (libc's open and close), so it is in NATIVE_ACCESS.
  cp native-src/target/infra4j-native-*.jar bindings/target/infra4j-bindings-*.jar \
     ffm-runtime/target/infra4j-ffm-runtime-*.jar memory/target/infra4j-memory-*.jar \
     dualpipe/target/infra4j-dualpipe-*.jar eplb/target/infra4j-eplb-*.jar \
     flashmla/target/infra4j-flashmla-*.jar deepgemm/target/infra4j-deepgemm-*.jar \
     deepep/target/infra4j-deepep-*.jar threefs/target/infra4j-threefs-*.jar "$dev/bundle/mods/"
  cp benchmarks/target/lib/jackson-*.jar integration-tests/target/lib/org.jfree.svg-*.jar \
     integration-tests/target/lib/jfreechart-*.jar "$dev/bundle/mods/"
  # Harnesses and the code they drive from the class path: JUnit's console, JMH, the tests.
  cp benchmarks/target/infra4j-benchmarks-*.jar benchmarks/target/lib/jmh-core-*.jar \
     benchmarks/target/lib/jopt-simple-*.jar benchmarks/target/lib/commons-math3-*.jar "$dev/bundle/cp/"
  cp integration-tests/target/infra4j-integration-tests-*.jar "$dev/bundle/cp/"
  cp integration-tests/target/junit-console/junit-platform-console-standalone-*.jar "$dev/bundle/junit-console.jar"
  if [ -x native-src/target/cmake/infra4j_call_overhead ]; then
    cp native-src/target/cmake/infra4j_call_overhead native-src/target/cmake/libinfra4j_cuda.so "$dev/bundle/native/"
  else
    echo "run-gpu: no C baseline (native-src built without nvcc?)" >&2; exit 1
  fi
  cp integration-tests/gpu/*.py "$dev/bundle/"
  # The command line, for the stages that run infra4j itself (its module descriptor is ignored on the class path).
  mkdir -p "$dev/bundle/cli"
  cp cli/target/infra4j-cli-*.jar cli/target/lib/commons-cli-*.jar cli/target/lib/progressbar-*.jar cli/target/lib/jline-*.jar \
     "$dev/bundle/cli/"
  if [ "${MLA_TRACE:-0}" = 1 ]; then
    echo "run-gpu: building the MLA trace library (-DINFRA4J_MLA_TRACE)"
    cmake -S native-src -B native-src/target/cmake-trace -DCMAKE_BUILD_TYPE=Release \
        "-DINFRA4J_CUDA_GENCODE=-gencode=arch=compute_90a,code=sm_90a -DINFRA4J_MLA_TRACE" >/dev/null
    cmake --build native-src/target/cmake-trace -j "$(nproc)" --target infra4j_cuda >/dev/null
    cp native-src/target/cmake-trace/libinfra4j_cuda.so "$dev/bundle/native/libinfra4j_trace.so"
  fi
  git rev-parse --short=12 HEAD 2>/dev/null >"$dev/bundle/commit" || echo unknown >"$dev/bundle/commit"
  if ! git diff --quiet HEAD 2>/dev/null; then sed -i 's/$/+dirty/' "$dev/bundle/commit"; fi
  # jdk.zipfs: JUnit's class-path scanner opens the test jar as a file system; java.desktop: dualpipe
  # and eplb draw their charts with java.awt.
  local jre_modules=jdk.zipfs,java.desktop
  if [ ! -f "$dev/jre.tar.xz" ] || [ "$(cat "$dev/jre.modules" 2>/dev/null)" != "$jre_modules" ] || [ "${REBUILD_JRE:-0}" = 1 ]; then
    JRE_MODULES=$jre_modules "$root/../shared/tools/device-jre" "$dev"
    echo "$jre_modules" >"$dev/jre.modules"
  fi
  du -sh "$dev" | awk '{print "run-gpu: bundle ready, " $1 " in .device/"}'
  echo "run-gpu: now run on the GPU machine (carry .device): bash integration-tests/run-gpu.sh run \"\$OUT\""
}

# "call=median_ns ..." from the C program's JSON lines.
c_medians() {
  sed -n 's/.*"call":"\([^"]*\)".*"median_ns":\([0-9.]*\).*/\1=\2/p' "$1" | tr '\n' ' '
}

run() {
  local out=${1:?usage: run-gpu.sh run OUT [all|tests|bench|smoke]}
  local what=${2:-all}   # all | tests | bench | smoke | mla | gemm | ep | multi | io | trace
  mkdir -p "$out"
  # NVLink multicast stays off in every program and child process (it can take a shared host's GPUs down).
  export NCCL_NVLS_ENABLE=0 NVSHMEM_DISABLE_NVLS=1 TORCH_SYMM_MEM_DISABLE_MULTICAST=1
  local logs; logs=$(mktemp -d /tmp/infra4j-gpu-logs.XXXX)
  local b=$dev/bundle
  [ -d "$b" ] || { echo "run-gpu: no bundle at $b (run 'run-gpu.sh bundle' first and carry .device)"; exit 2; }
  if [ ! -x /tmp/jre/bin/java ]; then tar -xJf "$dev/jre.tar.xz" -C /tmp; fi
  export JAVA_HOME=/tmp/jre PATH=/tmp/jre/bin:$PATH
  export INFRA4J_CACHE_DIR=/tmp/infra4j-cache
  local commit; commit=$(cat "$b/commit")
  local driver; driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1)
  local jvm=(java --module-path "$b/mods" --add-modules ALL-MODULE-PATH --enable-native-access=$NATIVE_ACCESS "$TEST_EXPORTS")
  local cp; cp=$(ls "$b"/cp/*.jar | tr '\n' ':')
  local summary=$logs/summary.txt
  : >"$summary"
  say() { echo "$*" | tee -a "$summary"; }

  say "== infra4j GPU run: commit $commit, driver $driver, $(date -u +%FT%TZ)"
  if [ "$what" = trace ]; then
    [ -f "$b/native/libinfra4j_trace.so" ] || { say "run-gpu: no trace library (bundle with MLA_TRACE=1)"; return 2; }
    shift 2
    local cfg
    for cfg in "$@"; do
      say "== trace: $cfg"
      INFRA4J_CUDA_KERNELS_PATH=$b/native/libinfra4j_trace.so timeout "${STAGE_LIMIT_TRACE:-60}" "${jvm[@]}" -cp "$cp" \
          io.infra4j.benchmarks.flashmla.MlaBenchmarks --only "$cfg" --out "$logs/trace-results" \
          >"$logs/trace.log" 2>&1 || say "trace run failed (see the log)"
      grep -E "^TRACE| ms |rror|xception" "$logs/trace.log" | tee -a "$summary"
    done
    cp "$summary" "$out/"
    return 0
  fi
  nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem,temperature.gpu --format=csv >"$logs/nvidia-smi.txt" 2>&1
  cat "$logs/nvidia-smi.txt" | tee -a "$summary"

  local rc=0
  if [ "$what" = all ] || [ "$what" = tests ] || [ "$what" = smoke ] || [ "$what" = mla ] || [ "$what" = gemm ] || [ "$what" = ep ] \
      || [ "$what" = io ]; then
    local select=(--scan-class-path "$b/cp/$(cd "$b/cp" && ls infra4j-integration-tests-*-tests.jar)" --include-tag gpu)
    [ "$what" = smoke ] && select=(--select-class io.infra4j.integration.DeviceInfoGpuTest --select-class io.infra4j.integration.ErrorHandlingGpuTest)
    [ "$what" = mla ] && select=(--select-class io.infra4j.integration.MlaDecodeGpuTest)
    [ "$what" = ep ] && select=(--select-class io.infra4j.integration.EpIntranodeGpuTest --select-class io.infra4j.integration.EpNcclGpuTest --select-class io.infra4j.integration.EpBufferGpuTest
                                --select-class io.infra4j.integration.NvshmemGpuTest)
    [ "$what" = io ] && select=(--select-class io.infra4j.integration.CheckpointLoaderGpuTest)
    [ "$what" = gemm ] && select=(--select-class io.infra4j.integration.Fp8QuantGpuTest --select-class io.infra4j.integration.Fp8GemmGpuTest
                                  --select-class io.infra4j.integration.CublasLtFp8GemmGpuTest)
    say "== GPU tests ($what)"
    timeout "${STAGE_LIMIT_TESTS:-300}" "${jvm[@]}" -Xmx24g -jar "$b/junit-console.jar" execute --class-path "$cp" \
        "${select[@]}" --details=tree --disable-banner --disable-ansi-colors --reports-dir "$logs/junit" \
        >"$logs/gpu-tests.log" 2>&1
    local trc=$?
    grep -E "tests (successful|failed|skipped|aborted|found)|containers failed" "$logs/gpu-tests.log" | tee -a "$summary"
    grep -E "✘|=> |alone:|pool (before|after)|block 4096|grid 0|checkpoint: " "$logs/gpu-tests.log" | head -n 60 | tee -a "$summary"
    say "GPU tests exit code: $trc"
    [ $trc -ne 0 ] && rc=1
    if [ "$what" != smoke ] && [ "$what" != gemm ] && [ "$what" != ep ] && [ "$what" != io ]; then
      # The opt-in narrow MLA kernel (INFRA4J_MLA_NARROW=1) must pass the same MLA tests.
      say "== MLA GPU tests with INFRA4J_MLA_NARROW=1"
      INFRA4J_MLA_NARROW=1 timeout "${STAGE_LIMIT_TESTS:-300}" "${jvm[@]}" -Xmx24g -jar "$b/junit-console.jar" execute \
          --class-path "$cp" --select-class io.infra4j.integration.MlaDecodeGpuTest --details=tree --disable-banner \
          --disable-ansi-colors --reports-dir "$logs/junit-narrow" >"$logs/gpu-tests-narrow.log" 2>&1
      local nrc=$?
      grep -E "tests (successful|failed)|✘" "$logs/gpu-tests-narrow.log" | head -n 20 | tee -a "$summary"
      say "narrow MLA tests exit code: $nrc"
      [ $nrc -ne 0 ] && rc=1
    fi
  fi

  if { [ "$what" = all ] || [ "$what" = tests ]; } && [ "${SKIP_PARITY:-0}" != 1 ]; then
    say "== PyTorch codec parity (all 2^32 float32 inputs)"
    PYTHONUNBUFFERED=1 timeout "${STAGE_LIMIT_PARITY:-200}" python3 "$b/torch_codec_parity.py" \
        --out "$logs/codec-parity.json" >"$logs/codec-parity.log" 2>&1 || say "codec parity failed (see codec-parity.log)"
    tail -n 30 "$logs/codec-parity.log" | tee -a "$summary"
  fi

  if [ "$what" = all ] || [ "$what" = bench ]; then
    # The C program alone, with no JVM on the GPU: the cleanest baseline (again at the end, for drift).
    "$b/native/infra4j_call_overhead" >"$logs/c-alone-first.jsonl" 2>&1
    say "== C call overhead alone, first: $(c_medians "$logs/c-alone-first.jsonl")"
    say "== JMH (FFM downcalls, codecs)"
    timeout "${STAGE_LIMIT_JMH:-200}" "${jvm[@]}" -cp "$cp" org.openjdk.jmh.Main "${JMH_FILTER:-io.infra4j.benchmarks.jmh.*}" \
        -f 1 -wi 3 -w 1 -i 5 -r 1 \
        -jvmArgsAppend "--module-path $b/mods --add-modules ALL-MODULE-PATH --enable-native-access=$NATIVE_ACCESS" \
        -rf json -rff "$logs/jmh.json" >"$logs/jmh.log" 2>&1 || { say "JMH failed (see jmh.log)"; rc=1; }
    grep -E "^(Benchmark|[A-Za-z]+Benchmark\.)" "$logs/jmh.log" | tee -a "$summary"

    say "== PyTorch peer"
    PYTHONUNBUFFERED=1 timeout "${STAGE_LIMIT_PEER:-120}" python3 "$b/torch_peer.py" --out "$logs/torch-peer.json" >"$logs/torch-peer.log" 2>&1 \
        || say "PyTorch peer failed (see torch-peer.log)"
    tail -n 20 "$logs/torch-peer.log" | tee -a "$summary"

    say "== Foundation benchmarks (C baseline in the same run)"
    LD_LIBRARY_PATH=$b/native:${LD_LIBRARY_PATH:-} timeout "${STAGE_LIMIT_FOUNDATION:-200}" "${jvm[@]}" -cp "$cp" io.infra4j.benchmarks.foundation.FoundationBenchmarks \
        --out "$logs/results" --c-baseline "$b/native/infra4j_call_overhead" --jmh-json "$logs/jmh.json" \
        --peer-json "$logs/torch-peer.json" --commit "$commit" --driver "$driver" >"$logs/foundation.log" 2>&1 \
        || { say "foundation benchmarks failed (see foundation.log)"; rc=1; }
    sed -n '/^### /,$p' "$logs/foundation.log" | tee -a "$summary"
    "$b/native/infra4j_call_overhead" >"$logs/c-alone-last.jsonl" 2>&1
    say "== C call overhead alone, last: $(c_medians "$logs/c-alone-last.jsonl")"

  fi

  if [ "$what" = all ] || [ "$what" = bench ] || [ "$what" = mla ]; then
    say "== MLA decode benchmark (PyTorch peer on the same lengths)"
    "${jvm[@]}" -cp "$cp" io.infra4j.benchmarks.flashmla.MlaBenchmarks --configs-out "$logs/mla-configs.json" >"$logs/mla.log" 2>&1
    PYTHONUNBUFFERED=1 timeout "${STAGE_LIMIT_MLA_PEER:-240}" python3 "$b/torch_mla_peer.py" --configs "$logs/mla-configs.json" \
        --out "$logs/torch-mla-peer.json" >"$logs/torch-mla-peer.log" 2>&1 || say "MLA peer failed (see torch-mla-peer.log)"
    timeout "${STAGE_LIMIT_MLA:-300}" "${jvm[@]}" -Xmx24g -cp "$cp" io.infra4j.benchmarks.flashmla.MlaBenchmarks \
        --peer-json "$logs/torch-mla-peer.json" --out "$logs/results" --commit "$commit" --driver "$driver" >>"$logs/mla.log" 2>&1 \
        || { say "MLA benchmark failed (see mla.log)"; rc=1; }
    grep -E " ms |failed|results appended" "$logs/mla.log" | tee -a "$summary"
    if [ "$what" = mla ] && [ -n "${MLA_AB:-}" ]; then
      say "== A/B: MLA tests and benchmark again with $MLA_AB"
      # shellcheck disable=SC2086  # MLA_AB is a list of VAR=value words
      env $MLA_AB timeout "${STAGE_LIMIT_TESTS:-300}" "${jvm[@]}" -Xmx24g -jar "$b/junit-console.jar" execute \
          --class-path "$cp" --select-class io.infra4j.integration.MlaDecodeGpuTest --details=tree --disable-banner \
          --disable-ansi-colors >"$logs/gpu-tests-ab.log" 2>&1 || rc=1
      grep -E "tests (successful|failed)|✘" "$logs/gpu-tests-ab.log" | head -n 20 | tee -a "$summary"
      # shellcheck disable=SC2086
      env $MLA_AB timeout "${STAGE_LIMIT_MLA:-300}" "${jvm[@]}" -Xmx24g -cp "$cp" io.infra4j.benchmarks.flashmla.MlaBenchmarks \
          --peer-json "$logs/torch-mla-peer.json" --out "$logs/results-ab" --commit "$commit ($MLA_AB)" --driver "$driver" \
          >"$logs/mla-ab.log" 2>&1 || say "MLA A/B benchmark failed (see mla-ab.log)"
      grep -E " ms |failed" "$logs/mla-ab.log" | tee -a "$summary"
      for f in "$logs"/results-ab/*.md; do [ -f "$f" ] && cp "$f" "$out/ab-$(basename "$f")"; done
    fi
  fi

  if [ "$what" = all ] || [ "$what" = bench ] || [ "$what" = gemm ]; then
    say "== FP8 GEMM benchmark (torch._scaled_mm peer on the same shapes, cuBLASLt through our bindings)"
    "${jvm[@]}" -cp "$cp" io.infra4j.benchmarks.deepgemm.GemmBenchmarks --configs-out "$logs/gemm-configs.json" >"$logs/gemm.log" 2>&1
    PYTHONUNBUFFERED=1 timeout "${STAGE_LIMIT_GEMM_PEER:-300}" python3 "$b/torch_gemm_peer.py" --configs "$logs/gemm-configs.json" --warmup 20 \
        --out "$logs/torch-gemm-peer.json" >"$logs/torch-gemm-peer.log" 2>&1 || say "GEMM peer failed (see torch-gemm-peer.log)"
    tail -n 3 "$logs/torch-gemm-peer.log" | tee -a "$summary"
    timeout "${STAGE_LIMIT_GEMM:-400}" "${jvm[@]}" -Xmx24g -cp "$cp" io.infra4j.benchmarks.deepgemm.GemmBenchmarks \
        --peer-json "$logs/torch-gemm-peer.json" --out "$logs/results" --commit "$commit" --driver "$driver" >>"$logs/gemm.log" 2>&1 \
        || { say "GEMM benchmark failed (see gemm.log)"; rc=1; }
    grep -E " ms |failed|target:|results appended" "$logs/gemm.log" | tee -a "$summary"
  fi

  if [ "$what" = all ] || [ "$what" = bench ] || [ "$what" = ep ]; then
    say "== expert-parallel benchmark (simulated ranks on one GPU; device-to-device copy of the same bytes as the peer)"
    timeout "${STAGE_LIMIT_EP:-300}" "${jvm[@]}" -Xmx24g -cp "$cp" io.infra4j.benchmarks.deepep.EpBenchmarks \
        --out "$logs/results" --commit "$commit" --driver "$driver" ${EP_ONLY:+--only "$EP_ONLY"} >"$logs/ep-bench.log" 2>&1 \
        || { say "EP benchmark failed (see ep-bench.log)"; rc=1; }
    grep -E " us |failed|skipped|results appended" "$logs/ep-bench.log" | tee -a "$summary"
    say "== infra4j demo --stage ep and infra4j bench ep (the command line on this GPU)"
    local cli_cp; cli_cp="$cp:$(ls "$b"/cli/*.jar | tr '\n' ':')"
    { timeout 120 "${jvm[@]}" -Xmx16g -cp "$cli_cp" io.infra4j.cli.Main demo --stage ep --no-progress
      timeout 120 "${jvm[@]}" -Xmx16g -cp "$cli_cp" io.infra4j.cli.Main bench ep --ep-mode low-latency --rows fp8 --no-progress
    } >"$logs/ep-cli.log" 2>&1 || { say "infra4j demo/bench ep failed (see ep-cli.log)"; rc=1; }
    grep -E "PASS|FAIL|demo (passed|failed)|bench ep|layout|dispatch|combine" "$logs/ep-cli.log" | tee -a "$summary"
  fi

  if [ "$what" = all ] || [ "$what" = bench ] || [ "$what" = io ]; then
    local io_dir=${IO_DIR:-/tmp}
    say "== USRBIO reads and checkpoint loading in $io_dir ($(df -T "$io_dir" | tail -n 1 | awk '{print $2}'); fio: $(command -v fio || echo 'not installed here'))"
    timeout "${STAGE_LIMIT_IO:-300}" "${jvm[@]}" -Xmx8g -cp "$cp" io.infra4j.benchmarks.threefs.IoBenchmarks --file "$io_dir/infra4j-io-bench.bin" \
        --size "${IO_BYTES:-8589934592}" --seconds "${IO_SECONDS:-16}" --out "$logs/results" --commit "$commit" \
        --machine "the GPU machine: $(nproc) cores" >"$logs/io-bench.log" 2>&1 || { say "I/O benchmark failed (see io-bench.log)"; rc=1; }
    grep -E "IOPS|fio|results appended|rror" "$logs/io-bench.log" | tee -a "$summary"
    rm -f "$io_dir/infra4j-io-bench.bin"
    [ -n "${SKIP_CKPT:-}" ] || timeout "${STAGE_LIMIT_IO:-300}" "${jvm[@]}" -Xmx8g -cp "$cp" io.infra4j.benchmarks.threefs.CheckpointBenchmarks --dir "$io_dir" \
        --gib "${CKPT_GIB:-8}" --out "$logs/results" --commit "$commit" --machine "the GPU machine: $(nproc) cores" \
        >"$logs/ckpt-bench.log" 2>&1 || { say "checkpoint benchmark failed (see ckpt-bench.log)"; rc=1; }
    grep -E "^checkpoint|results appended|rror" "$logs/ckpt-bench.log" | tee -a "$summary"
    rm -f "$io_dir/infra4j-ckpt-bench.safetensors"
  fi

  if [ "$what" = all ] || [ "$what" = multi ]; then
    local gpus; gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
    if [ "$gpus" -lt 2 ]; then
      say "== multi-GPU stage skipped: $gpus GPU here"
    else
      if [ "$what" = multi ]; then
        say "== NCCL GPU tests on $gpus GPUs"
        timeout "${STAGE_LIMIT_TESTS:-300}" "${jvm[@]}" -Xmx24g -jar "$b/junit-console.jar" execute --class-path "$cp" \
            --select-class io.infra4j.integration.NcclMultiGpuTest --select-class io.infra4j.integration.NcclGpuTest \
            --select-class io.infra4j.integration.EpBufferGpuTest --select-class io.infra4j.integration.EpNcclGpuTest \
            --details=tree --disable-banner --disable-ansi-colors --reports-dir "$logs/junit-multi" >"$logs/gpu-tests-multi.log" 2>&1
        local mrc=$?
        grep -E "tests (successful|failed|skipped|aborted|found)|✘|NCCL over" "$logs/gpu-tests-multi.log" | head -n 30 | tee -a "$summary"
        say "NCCL tests exit code: $mrc"
        [ $mrc -ne 0 ] && rc=1
      fi
      say "== NCCL bandwidth: PyTorch peer, then infra4j's bindings ($gpus GPUs)"
      PYTHONUNBUFFERED=1 timeout "${STAGE_LIMIT_NCCL_PEER:-300}" python3 "$b/torch_nccl_peer.py" --out "$logs/torch-nccl-peer.json" \
          >"$logs/torch-nccl-peer.log" 2>&1 || say "NCCL peer failed (see torch-nccl-peer.log)"
      tail -n 12 "$logs/torch-nccl-peer.log" | tee -a "$summary"
      timeout "${STAGE_LIMIT_NCCL:-300}" "${jvm[@]}" -Xmx16g -cp "$cp" io.infra4j.benchmarks.nccl.NcclBenchmarks \
          --peer-json "$logs/torch-nccl-peer.json" --out "$logs/results" --commit "$commit" --driver "$driver" \
          >"$logs/nccl.log" 2>&1 || { say "NCCL benchmark failed (see nccl.log)"; rc=1; }
      grep -E " B  exact|failed|rror|xception|results appended" "$logs/nccl.log" | head -n 30 | tee -a "$summary"
      say "== DualPipe training over NCCL ($gpus GPUs)"
      timeout "${STAGE_LIMIT_DUALPIPE:-300}" "${jvm[@]}" -Xmx16g -cp "$cp" io.infra4j.benchmarks.dualpipe.DualPipeNcclRun \
          --out "$logs/results" --commit "$commit" --driver "$driver" >"$logs/dualpipe-nccl.log" 2>&1 \
          || { say "DualPipe over NCCL failed (see dualpipe-nccl.log)"; rc=1; }
      grep -E "^== |loss diff|rror|xception|results appended" "$logs/dualpipe-nccl.log" | head -n 30 | tee -a "$summary"
      say "== expert-parallel dispatch and combine, one rank per GPU ($gpus GPUs), against an NCCL all-to-all of the same bytes"
      timeout "${STAGE_LIMIT_EP_MULTI:-400}" "${jvm[@]}" -Xmx64g -cp "$cp" io.infra4j.benchmarks.deepep.EpMultiGpuRun \
          --out "$logs/results" --commit "$commit" --driver "$driver" >"$logs/ep-multi.log" 2>&1 \
          || { say "EP multi-GPU run failed (see ep-multi.log)"; rc=1; }
      grep -E "exact|dispatch|rror|xception|results appended" "$logs/ep-multi.log" | head -n 30 | tee -a "$summary"
    fi
  fi

  # At most 8 files come back: the summary, the results, and one archive of everything.
  cp "$summary" "$out/"
  [ -d "$logs/results" ] && cp "$logs"/results/* "$out/" 2>/dev/null
  [ -f "$logs/codec-parity.json" ] && cp "$logs/codec-parity.json" "$out/"
  tar -czf "$out/logs.tar.gz" -C "$logs" .
  say "== done (exit $rc); logs in $out"
  return $rc
}

# smallpond's run has a bundle of its own: DuckDB's library (72 MB, 17 MB as xz) does not fit in the carry
# limit beside the GPU bundle. It holds a runtime without the desktop modules, the modules smallpond needs, the
# duckdb_jdbc jar without its native libraries (the classes the library's JNI_OnLoad looks up) and the Linux
# x86-64 library as xz, which INFRA4J_DUCKDB_PATH points to once unpacked. Carry .device/pond.
bundle_pond() {
  set -e
  cd "$root"
  local b=$dev/pond
  echo "run-gpu: building smallpond's bundle in $b"
  ./mvnw -B -q -ntp -DskipTests install -pl cli,benchmarks -am
  rm -rf "$b"
  mkdir -p "$b/mods" "$b/cp" "$b/cli"
  cp native-src/target/infra4j-native-*.jar bindings/target/infra4j-bindings-*.jar ffm-runtime/target/infra4j-ffm-runtime-*.jar \
     memory/target/infra4j-memory-*.jar smallpond/target/infra4j-smallpond-*.jar benchmarks/target/lib/jackson-*.jar "$b/mods/"
  # the command line loads every command's classes: the other modules' jars ride along on its class path (on
  # the module path dualpipe would need java.desktop, which this runtime leaves out)
  cp dualpipe/target/infra4j-dualpipe-*.jar eplb/target/infra4j-eplb-*.jar flashmla/target/infra4j-flashmla-*.jar \
     deepgemm/target/infra4j-deepgemm-*.jar deepep/target/infra4j-deepep-*.jar threefs/target/infra4j-threefs-*.jar "$b/cli/"
  local jar; jar=$(ls benchmarks/target/lib/duckdb_jdbc-*.jar)
  python3 - "$jar" "$b/mods/$(basename "$jar")" "$b/libduckdb_java.so" <<'PY'
import sys, zipfile
src, dst, lib = sys.argv[1:4]
with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
    for e in z.infolist():
        if e.filename.startswith("libduckdb_java.so_"):
            if e.filename == "libduckdb_java.so_linux_amd64":
                open(lib, "wb").write(z.read(e))
            continue
        out.writestr(e, z.read(e))
PY
  xz -T0 -6 -f "$b/libduckdb_java.so"
  cp benchmarks/target/infra4j-benchmarks-*.jar "$b/cp/"
  cp cli/target/infra4j-cli-*.jar cli/target/lib/commons-cli-*.jar cli/target/lib/progressbar-*.jar cli/target/lib/jline-*.jar "$b/cli/"
  # the benchmarks jar's module descriptor names every infra4j module; on the class path it is ignored
  git rev-parse --short=12 HEAD 2>/dev/null >"$b/commit" || echo unknown >"$b/commit"
  if ! git diff --quiet HEAD 2>/dev/null; then sed -i 's/$/+dirty/' "$b/commit"; fi
  JRE_MODULES= "$root/../shared/tools/device-jre" "$b" >/dev/null
  du -sh "$b" | awk '{print "run-gpu: smallpond bundle ready, " $1 " in .device/pond"}'
}

# GraySort through smallpond against one DuckDB query, and the pond and sort commands, on this machine's cores.
run_pond() {
  local out=${1:?usage: run-gpu.sh run-pond OUT}
  local b=$root/.device/pond
  mkdir -p "$out"
  local t; t=$(mktemp -d /tmp/infra4j-pond.XXXX)
  tar -xJf "$b/jre.tar.xz" -C "$t"
  xz -dc "$b/libduckdb_java.so.xz" >"$t/libduckdb_java.so"
  export INFRA4J_DUCKDB_PATH=$t/libduckdb_java.so PATH=$t/jre/bin:$PATH
  local jvm=(java --module-path "$b/mods" --add-modules ALL-MODULE-PATH --enable-native-access=$NATIVE_ACCESS)
  local cp; cp=$(ls "$b"/cp/*.jar | tr '\n' ':')
  local cli_cp; cli_cp=$cp$(ls "$b"/cli/*.jar | tr '\n' ':')
  local work=${POND_DIR:-/tmp}/infra4j-graysort
  local commit; commit=$(cat "$b/commit")
  # smallpond's intermediate files go to tmpfs when it holds three times the data: the one DuckDB query it is
  # compared with keeps its sorted runs in memory too. Inputs and outputs of both stay in POND_DIR.
  local size=${POND_SIZE:-10000000000}
  local inter=$work-intermediate
  if [ -z "${POND_INTERMEDIATE:-}" ] && [ "$(df -B1 --output=avail /dev/shm 2>/dev/null | tail -n 1)" -gt $((3 * size)) ] 2>/dev/null; then
    inter=/dev/shm/infra4j-pond-work
  fi
  inter=${POND_INTERMEDIATE:-$inter}
  # This machine's memory grows as it is first touched (about 3 s for each 8 GiB): touch what the runs will use
  # once, through tmpfs, so that neither engine's first round pays for it.
  local warm=$(( ${POND_WARM_GB:-48} << 30 )) avail; avail=$(df -B1 --output=avail /dev/shm 2>/dev/null | tail -n 1)
  [ -n "$avail" ] && [ "$warm" -gt $((avail - (2 << 30))) ] && warm=$((avail - (2 << 30)))
  if [ "$warm" -gt 0 ]; then
    local w0=$SECONDS; head -c "$warm" /dev/zero >/dev/shm/infra4j-warm 2>/dev/null; rm -f /dev/shm/infra4j-warm
    echo "== touched $((warm >> 30)) GiB of memory through /dev/shm in $((SECONDS - w0)) s" >>"$out/pond.log.pre"
  fi
  {
    [ -f "$out/pond.log.pre" ] && cat "$out/pond.log.pre" && rm -f "$out/pond.log.pre"
    echo "== this machine's scaling apart from any engine (integration-tests/probes/cpu_scaling.py)"
    timeout 120 python3 "$root/integration-tests/probes/cpu_scaling.py" || echo "cpu probe failed"
    echo "== smallpond on $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; work in $(dirname "$work") ($(df -T "$(dirname "$work")" | tail -n 1 | awk '{print $2", "$5" free"}'))"
    [ -n "${POND_SKIP_CLI:-}" ] || timeout "${STAGE_LIMIT_POND_CLI:-120}" "${jvm[@]}" -cp "$cli_cp" io.infra4j.cli.Main sort --size "${POND_CLI_SIZE:-200MB}" --partitions 16 \
        --work "$work-cli" --validate --compare --json --no-progress || echo "infra4j sort failed"
    rm -rf "$work-cli"
    mkdir -p "$work-csv"
    "${jvm[@]}" -cp "$cli_cp" io.infra4j.cli.Main sql "COPY (SELECT 'host-' || (i % 97) AS host, i AS bytes FROM range(2000000) t(i)) TO '$work-csv/log.csv' (HEADER)" >/dev/null
    [ -n "${POND_SKIP_CLI:-}" ] || timeout 120 "${jvm[@]}" -cp "$cli_cp" io.infra4j.cli.Main pond --input "$work-csv/*.csv" --format csv --partitions 8 --hash-by host \
        --sql "select host, count(*) as hits, sum(bytes) as bytes from {0} group by host" --output "$work-csv/out" --json --no-progress \
        || echo "infra4j pond failed"
    rm -rf "$work-csv"
    timeout "${STAGE_LIMIT_POND:-560}" "${jvm[@]}" -Xmx8g -cp "$cp" io.infra4j.benchmarks.smallpond.GraySortBenchmarks --work "$work" \
        --intermediate "$inter" --size "$size" --partitions "${POND_PARTITIONS:-64}" --tasks "${POND_TASKS:-$(nproc)}" --rounds "${POND_ROUNDS:-2}" \
        --scaling-size "${POND_SCALING_SIZE:-2000000000}" --out "$out" --commit "$commit" \
        --machine "the GPU machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB" || echo "GraySort benchmark failed"
  } 2>&1 | tee "$out/pond.log"
  rm -rf "$t" "$work" "$work-cli" "$work-csv" "$inter"
}

case "${1:-}" in
  bundle) bundle ;;
  run) shift; run "$@" ;;
  bundle-pond) bundle_pond ;;
  run-pond) shift; run_pond "$@" ;;
  *) sed -n '2,19p' "$0"; exit 2 ;;
esac
