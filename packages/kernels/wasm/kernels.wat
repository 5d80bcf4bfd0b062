;; ganpo fast CPU kernels: hand-written WebAssembly (SIMD128 + shared memory).
;;
;; Assembled by packages/kernels/scripts/build-wasm.mjs (the `wabt` npm package) into
;; src/fast/kernels.wasm.generated.ts. Every function works on byte addresses in the one shared memory
;; that the host and its worker threads all import. Nothing here allocates and there are no globals: the
;; only state is the read-only constant table that `init` writes once at address 3072, and each thread's
;; scratch, whose address the host passes in. So any number of threads may run the exports at once on
;; disjoint outputs.
;;
;; float32 throughout. IEEE semantics, no fused multiply-add (relaxed SIMD is behind a flag in Node 20):
;; a result does not depend on which thread computed it, so the multi-threaded kernels are bit-for-bit
;; the single-threaded ones.
;;
;; Layout of the sections: matmul (micro-kernel, packing, blocking), element-wise math (constant table,
;; exp and the functions built on it, the one-instruction ops), broadcasting binary ops, row kernels
;; (softmax, logSoftmax, crossEntropy, layerNorm), and last the exports the thread pool runs.

(module
  (import "env" "memory" (memory 1 32768 shared))
  ;; Math.log, for the one logarithm per row of logSoftmax and crossEntropy.
  (import "env" "log" (func $log (param f64) (result f64)))

  ;; ===================================================================================================
  ;; Matmul. C[m, n] = A[m, k] · B[k, n], blocked as in BLIS / GotoBLAS:
  ;;   for pc in K by KC:  for ic in M by MC:  pack A[ic:+MC, pc:+KC] into 4-row panels ([kc][4])
  ;;     for jr in N by 8:  for ir in MC by 4:  4×8 register tile (8 f32x4 accumulators) over kc
  ;; B is packed once per matrix by $pack_b into 8-column panels [ceil(n/8)][k][8], zero-padded.
  ;; A is read through two byte strides (row stride rs, column stride cs), so one routine serves A and Aᵀ.
  ;; ===================================================================================================

  ;; The 4×8 micro-kernel: c[4][8] (+)= Σ_p a[p][0..4] ⊗ b[p][0..8]; a packed [kc][4], b packed [kc][8].
  ;; ldc is C's row stride in bytes; acc != 0 adds to C instead of overwriting it.
  (func $kern (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $kc i32) (param $acc i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128)
    (block $done
      (loop $lp
        (br_if $done (i32.eqz (local.get $kc)))
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $av (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (local.set $kc (i32.sub (local.get $kc) (i32.const 1)))
        (br $lp)))
    (if (local.get $acc)
      (then
        (local.set $c00 (f32x4.add (local.get $c00) (v128.load (local.get $c))))
        (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $c))))
        (local.set $c10 (f32x4.add (local.get $c10) (v128.load (i32.add (local.get $c) (local.get $ldc)))))
        (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (i32.add (local.get $c) (local.get $ldc)))))
        (local.set $c20 (f32x4.add (local.get $c20)
          (v128.load (i32.add (local.get $c) (i32.shl (local.get $ldc) (i32.const 1))))))
        (local.set $c21 (f32x4.add (local.get $c21)
          (v128.load offset=16 (i32.add (local.get $c) (i32.shl (local.get $ldc) (i32.const 1))))))
        (local.set $c30 (f32x4.add (local.get $c30)
          (v128.load (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 3))))))
        (local.set $c31 (f32x4.add (local.get $c31)
          (v128.load offset=16 (i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const 3))))))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c10))
    (v128.store offset=16 (local.get $c) (local.get $c11))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c20))
    (v128.store offset=16 (local.get $c) (local.get $c21))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c30))
    (v128.store offset=16 (local.get $c) (local.get $c31)))

  ;; A partial tile (mr < 4 rows or nr < 8 columns at the matrix edge): the full 4×8 product goes to the
  ;; 128-byte scratch `tile` (the packed panels are zero-padded), then only the mr×nr corner reaches C.
  (func $kern_edge (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $kc i32) (param $acc i32)
                   (param $mr i32) (param $nr i32) (param $tile i32)
    (local $r i32) (local $j i32) (local $src i32) (local $dst i32)
    (call $kern (local.get $a) (local.get $b) (local.get $tile) (i32.const 32) (local.get $kc) (i32.const 0))
    (local.set $r (i32.const 0))
    (loop $rows
      (local.set $src (i32.add (local.get $tile) (i32.shl (local.get $r) (i32.const 5))))
      (local.set $dst (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $ldc))))
      (local.set $j (i32.const 0))
      (loop $cols
        (if (local.get $acc)
          (then (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src)))))
          (else (f32.store (local.get $dst) (f32.load (local.get $src)))))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $nr))))
      (br_if $rows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $mr)))))

  ;; Packs `rows` rows × kc columns of A (element (i, p) at src + i·rs + p·cs, byte strides) into 4-row
  ;; panels: dst[panel][p][0..4], rows past the end zero. Fast paths for row-major A (cs = 4: 4×4 SIMD
  ;; transposes) and for Aᵀ (rs = 4: the 4 values of one p are adjacent).
  (func $pack_a (param $src i32) (param $rs i32) (param $cs i32) (param $rows i32) (param $kc i32) (param $dst i32)
    (local $i i32) (local $p i32) (local $r i32) (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $nr i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128)
    (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $s i32)
    (local.set $i (i32.const 0))
    (block $end
      (loop $panels
        (br_if $end (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $nr (i32.sub (local.get $rows) (local.get $i)))
        (local.set $s0 (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $rs))))
        (local.set $p (i32.const 0))
        (if (i32.and (i32.ge_u (local.get $nr) (i32.const 4)) (i32.eq (local.get $cs) (i32.const 4)))
          (then
            ;; row-major: 4 rows, 4 columns at a time, transposed in registers
            (local.set $s1 (i32.add (local.get $s0) (local.get $rs)))
            (local.set $s2 (i32.add (local.get $s1) (local.get $rs)))
            (local.set $s3 (i32.add (local.get $s2) (local.get $rs)))
            (block $t_end
              (loop $t
                (br_if $t_end (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $kc)))
                (local.set $v0 (v128.load (local.get $s0)))
                (local.set $v1 (v128.load (local.get $s1)))
                (local.set $v2 (v128.load (local.get $s2)))
                (local.set $v3 (v128.load (local.get $s3)))
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
                (v128.store (local.get $dst)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (v128.store offset=16 (local.get $dst)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                (v128.store offset=32 (local.get $dst)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                (v128.store offset=48 (local.get $dst)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                (local.set $s0 (i32.add (local.get $s0) (i32.const 16)))
                (local.set $s1 (i32.add (local.get $s1) (i32.const 16)))
                (local.set $s2 (i32.add (local.get $s2) (i32.const 16)))
                (local.set $s3 (i32.add (local.get $s3) (i32.const 16)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $t)))
            (block $r_end
              (loop $rem
                (br_if $r_end (i32.ge_u (local.get $p) (local.get $kc)))
                (f32.store (local.get $dst) (f32.load (local.get $s0)))
                (f32.store offset=4 (local.get $dst) (f32.load (local.get $s1)))
                (f32.store offset=8 (local.get $dst) (f32.load (local.get $s2)))
                (f32.store offset=12 (local.get $dst) (f32.load (local.get $s3)))
                (local.set $s0 (i32.add (local.get $s0) (i32.const 4)))
                (local.set $s1 (i32.add (local.get $s1) (i32.const 4)))
                (local.set $s2 (i32.add (local.get $s2) (i32.const 4)))
                (local.set $s3 (i32.add (local.get $s3) (i32.const 4)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $rem))))
          (else
            (if (i32.and (i32.ge_u (local.get $nr) (i32.const 4)) (i32.eq (local.get $rs) (i32.const 4)))
              (then
                ;; transposed A: the 4 rows of one column are adjacent
                (block $c_end
                  (loop $col
                    (br_if $c_end (i32.ge_u (local.get $p) (local.get $kc)))
                    (v128.store (local.get $dst) (v128.load (local.get $s0)))
                    (local.set $s0 (i32.add (local.get $s0) (local.get $cs)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $col))))
              (else
                ;; general strides, or the last panel with fewer than 4 rows (zero-padded)
                (block $g_end
                  (loop $g
                    (br_if $g_end (i32.ge_u (local.get $p) (local.get $kc)))
                    (local.set $s (i32.add (local.get $s0) (i32.mul (local.get $p) (local.get $cs))))
                    (local.set $r (i32.const 0))
                    (loop $gr
                      (if (i32.lt_u (local.get $r) (local.get $nr))
                        (then (f32.store (local.get $dst) (f32.load (local.get $s))))
                        (else (f32.store (local.get $dst) (f32.const 0))))
                      (local.set $s (i32.add (local.get $s) (local.get $rs)))
                      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                      (br_if $gr (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const 4))))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $g)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $panels))))

  ;; Packs a whole B (k × n; stored [k, n], or [n, k] when trans != 0) into 8-column panels
  ;; dst[ceil(n/8)][k][8], columns past n zero. The transposed case goes 4 columns × 4 rows at a time
  ;; through SIMD transposes.
  (func $pack_b (export "pack_b") (param $src i32) (param $k i32) (param $n i32) (param $trans i32) (param $dst i32)
    (local $j i32) (local $p i32) (local $q i32) (local $nr i32) (local $s i32) (local $ld i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $r4 i32) (local $r5 i32)
    (local $r6 i32) (local $r7 i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $j (i32.const 0))
    (block $end
      (loop $panels
        (br_if $end (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $nr (i32.sub (local.get $n) (local.get $j)))
        (local.set $p (i32.const 0))
        (if (i32.eqz (local.get $trans))
          (then
            (local.set $ld (i32.shl (local.get $n) (i32.const 2)))
            (local.set $s (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))
            (if (i32.ge_u (local.get $nr) (i32.const 8))
              (then
                (block $f_end
                  (loop $f
                    (br_if $f_end (i32.ge_u (local.get $p) (local.get $k)))
                    (v128.store (local.get $dst) (v128.load (local.get $s)))
                    (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $s)))
                    (local.set $s (i32.add (local.get $s) (local.get $ld)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $f))))
              (else
                (block $e_end
                  (loop $e
                    (br_if $e_end (i32.ge_u (local.get $p) (local.get $k)))
                    (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
                    (v128.store offset=16 (local.get $dst) (v128.const i32x4 0 0 0 0))
                    (local.set $q (i32.const 0))
                    (loop $eq
                      (f32.store (i32.add (local.get $dst) (i32.shl (local.get $q) (i32.const 2)))
                        (f32.load (i32.add (local.get $s) (i32.shl (local.get $q) (i32.const 2)))))
                      (br_if $eq (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (local.get $nr))))
                    (local.set $s (i32.add (local.get $s) (local.get $ld)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $e))))))
          (else
            ;; B stored [n, k]: column j of B is row j of the stored matrix
            (local.set $ld (i32.shl (local.get $k) (i32.const 2)))
            (local.set $s (i32.add (local.get $src) (i32.mul (local.get $j) (local.get $ld))))
            (if (i32.ge_u (local.get $nr) (i32.const 8))
              (then
                (local.set $r0 (local.get $s))
                (local.set $r1 (i32.add (local.get $r0) (local.get $ld)))
                (local.set $r2 (i32.add (local.get $r1) (local.get $ld)))
                (local.set $r3 (i32.add (local.get $r2) (local.get $ld)))
                (local.set $r4 (i32.add (local.get $r3) (local.get $ld)))
                (local.set $r5 (i32.add (local.get $r4) (local.get $ld)))
                (local.set $r6 (i32.add (local.get $r5) (local.get $ld)))
                (local.set $r7 (i32.add (local.get $r6) (local.get $ld)))
                (block $t_end
                  (loop $t
                    (br_if $t_end (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $k)))
                    ;; columns j..j+3
                    (local.set $v0 (v128.load (local.get $r0)))
                    (local.set $v1 (v128.load (local.get $r1)))
                    (local.set $v2 (v128.load (local.get $r2)))
                    (local.set $v3 (v128.load (local.get $r3)))
                    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
                    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
                    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
                    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
                    (v128.store (local.get $dst)
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                    (v128.store offset=32 (local.get $dst)
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                    (v128.store offset=64 (local.get $dst)
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                    (v128.store offset=96 (local.get $dst)
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                    ;; columns j+4..j+7
                    (local.set $v0 (v128.load (local.get $r4)))
                    (local.set $v1 (v128.load (local.get $r5)))
                    (local.set $v2 (v128.load (local.get $r6)))
                    (local.set $v3 (v128.load (local.get $r7)))
                    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
                    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
                    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
                    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
                    (v128.store offset=16 (local.get $dst)
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                    (v128.store offset=48 (local.get $dst)
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                    (v128.store offset=80 (local.get $dst)
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                    (v128.store offset=112 (local.get $dst)
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                    (local.set $r0 (i32.add (local.get $r0) (i32.const 16)))
                    (local.set $r1 (i32.add (local.get $r1) (i32.const 16)))
                    (local.set $r2 (i32.add (local.get $r2) (i32.const 16)))
                    (local.set $r3 (i32.add (local.get $r3) (i32.const 16)))
                    (local.set $r4 (i32.add (local.get $r4) (i32.const 16)))
                    (local.set $r5 (i32.add (local.get $r5) (i32.const 16)))
                    (local.set $r6 (i32.add (local.get $r6) (i32.const 16)))
                    (local.set $r7 (i32.add (local.get $r7) (i32.const 16)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
                    (local.set $p (i32.add (local.get $p) (i32.const 4)))
                    (br $t)))
                (block $u_end
                  (loop $u
                    (br_if $u_end (i32.ge_u (local.get $p) (local.get $k)))
                    (f32.store (local.get $dst) (f32.load (local.get $r0)))
                    (f32.store offset=4 (local.get $dst) (f32.load (local.get $r1)))
                    (f32.store offset=8 (local.get $dst) (f32.load (local.get $r2)))
                    (f32.store offset=12 (local.get $dst) (f32.load (local.get $r3)))
                    (f32.store offset=16 (local.get $dst) (f32.load (local.get $r4)))
                    (f32.store offset=20 (local.get $dst) (f32.load (local.get $r5)))
                    (f32.store offset=24 (local.get $dst) (f32.load (local.get $r6)))
                    (f32.store offset=28 (local.get $dst) (f32.load (local.get $r7)))
                    (local.set $r0 (i32.add (local.get $r0) (i32.const 4)))
                    (local.set $r1 (i32.add (local.get $r1) (i32.const 4)))
                    (local.set $r2 (i32.add (local.get $r2) (i32.const 4)))
                    (local.set $r3 (i32.add (local.get $r3) (i32.const 4)))
                    (local.set $r4 (i32.add (local.get $r4) (i32.const 4)))
                    (local.set $r5 (i32.add (local.get $r5) (i32.const 4)))
                    (local.set $r6 (i32.add (local.get $r6) (i32.const 4)))
                    (local.set $r7 (i32.add (local.get $r7) (i32.const 4)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $u))))
              (else
                (block $x_end
                  (loop $x
                    (br_if $x_end (i32.ge_u (local.get $p) (local.get $k)))
                    (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
                    (v128.store offset=16 (local.get $dst) (v128.const i32x4 0 0 0 0))
                    (local.set $q (i32.const 0))
                    (loop $xq
                      (f32.store (i32.add (local.get $dst) (i32.shl (local.get $q) (i32.const 2)))
                        (f32.load (i32.add (i32.add (local.get $s) (i32.shl (local.get $p) (i32.const 2)))
                                           (i32.mul (local.get $q) (local.get $ld)))))
                      (br_if $xq (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (local.get $nr))))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $x)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $panels))))

  ;; C[m, n] = A · Bpacked for one matrix (k >= 1). A element (i, p) at a + i·rs + p·cs (bytes).
  ;; scratch holds the packed A block (mcb × kcb floats) followed by the 128-byte edge tile.
  (func $gemm (param $a i32) (param $rs i32) (param $cs i32) (param $bp i32) (param $c i32)
              (param $m i32) (param $n i32) (param $k i32) (param $scratch i32) (param $kcb i32) (param $mcb i32)
    (local $pc i32) (local $kc i32) (local $ic i32) (local $mc i32) (local $jr i32) (local $nr i32)
    (local $ir i32) (local $ldc i32) (local $bpan i32) (local $ap i32) (local $cp i32) (local $acc i32)
    (local $tile i32) (local $apstep i32)
    (local.set $ldc (i32.shl (local.get $n) (i32.const 2)))
    (local.set $tile (i32.add (local.get $scratch) (i32.shl (i32.mul (local.get $mcb) (local.get $kcb)) (i32.const 2))))
    (local.set $pc (i32.const 0))
    (block $pc_end
      (loop $pc_lp
        (br_if $pc_end (i32.ge_u (local.get $pc) (local.get $k)))
        (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
        (if (i32.gt_u (local.get $kc) (local.get $kcb)) (then (local.set $kc (local.get $kcb))))
        (local.set $acc (i32.ne (local.get $pc) (i32.const 0)))
        (local.set $apstep (i32.shl (local.get $kc) (i32.const 4)))
        (local.set $ic (i32.const 0))
        (block $ic_end
          (loop $ic_lp
            (br_if $ic_end (i32.ge_u (local.get $ic) (local.get $m)))
            (local.set $mc (i32.sub (local.get $m) (local.get $ic)))
            (if (i32.gt_u (local.get $mc) (local.get $mcb)) (then (local.set $mc (local.get $mcb))))
            (call $pack_a
              (i32.add (local.get $a) (i32.add (i32.mul (local.get $ic) (local.get $rs)) (i32.mul (local.get $pc) (local.get $cs))))
              (local.get $rs) (local.get $cs) (local.get $mc) (local.get $kc) (local.get $scratch))
            (local.set $jr (i32.const 0))
            (block $jr_end
              (loop $jr_lp
                (br_if $jr_end (i32.ge_u (local.get $jr) (local.get $n)))
                (local.set $nr (i32.sub (local.get $n) (local.get $jr)))
                ;; panel jr/8 starts at (jr/8)·k·32 bytes; its rows pc.. at + pc·32
                (local.set $bpan (i32.add (local.get $bp)
                  (i32.shl (i32.add (i32.mul (local.get $jr) (local.get $k)) (i32.shl (local.get $pc) (i32.const 3))) (i32.const 2))))
                (local.set $ap (local.get $scratch))
                (local.set $cp (i32.add (local.get $c)
                  (i32.add (i32.mul (local.get $ic) (local.get $ldc)) (i32.shl (local.get $jr) (i32.const 2)))))
                (local.set $ir (i32.const 0))
                (block $ir_end
                  (loop $ir_lp
                    (br_if $ir_end (i32.ge_u (local.get $ir) (local.get $mc)))
                    (if (i32.and (i32.ge_u (local.get $nr) (i32.const 8))
                                 (i32.le_u (i32.add (local.get $ir) (i32.const 4)) (local.get $mc)))
                      (then (call $kern (local.get $ap) (local.get $bpan) (local.get $cp) (local.get $ldc) (local.get $kc) (local.get $acc)))
                      (else
                        (call $kern_edge (local.get $ap) (local.get $bpan) (local.get $cp) (local.get $ldc) (local.get $kc) (local.get $acc)
                          (select (i32.const 4) (i32.sub (local.get $mc) (local.get $ir))
                                  (i32.le_u (i32.add (local.get $ir) (i32.const 4)) (local.get $mc)))
                          (select (i32.const 8) (local.get $nr) (i32.ge_u (local.get $nr) (i32.const 8)))
                          (local.get $tile))))
                    (local.set $ap (i32.add (local.get $ap) (local.get $apstep)))
                    (local.set $cp (i32.add (local.get $cp) (i32.shl (local.get $ldc) (i32.const 2))))
                    (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
                    (br $ir_lp)))
                (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
                (br $jr_lp)))
            (local.set $ic (i32.add (local.get $ic) (local.get $mcb)))
            (br $ic_lp)))
        (local.set $pc (i32.add (local.get $pc) (local.get $kcb)))
        (br $pc_lp))))

  ;; Rows [g0, g1) of a batched product viewed as [batch·m, n]: each batch b uses A at a + b·abs and
  ;; packed B at bp + b·bps (a stride of 0 repeats one matrix). The unit of work a thread is given.
  ;; Like every export a thread pool runs, it ends in (scratch, lo, hi): the calling thread's scratch and
  ;; the range of the output to compute.
  (func $gemm_rows (export "gemm_rows")
    (param $a i32) (param $abs i32) (param $rs i32) (param $cs i32) (param $bp i32) (param $bps i32) (param $c i32)
    (param $m i32) (param $n i32) (param $k i32) (param $kcb i32) (param $mcb i32)
    (param $scratch i32) (param $g0 i32) (param $g1 i32)
    (local $b i32) (local $i0 i32) (local $cnt i32)
    (block $end
      (loop $lp
        (br_if $end (i32.ge_u (local.get $g0) (local.get $g1)))
        (local.set $b (i32.div_u (local.get $g0) (local.get $m)))
        (local.set $i0 (i32.sub (local.get $g0) (i32.mul (local.get $b) (local.get $m))))
        (local.set $cnt (i32.sub (local.get $m) (local.get $i0)))
        (if (i32.gt_u (local.get $cnt) (i32.sub (local.get $g1) (local.get $g0)))
          (then (local.set $cnt (i32.sub (local.get $g1) (local.get $g0)))))
        (call $gemm
          (i32.add (i32.add (local.get $a) (i32.mul (local.get $b) (local.get $abs))) (i32.mul (local.get $i0) (local.get $rs)))
          (local.get $rs) (local.get $cs)
          (i32.add (local.get $bp) (i32.mul (local.get $b) (local.get $bps)))
          (i32.add (local.get $c) (i32.shl (i32.mul (local.get $g0) (local.get $n)) (i32.const 2)))
          (local.get $cnt) (local.get $n) (local.get $k) (local.get $scratch) (local.get $kcb) (local.get $mcb))
        (local.set $g0 (i32.add (local.get $g0) (local.get $cnt)))
        (br $lp))))

  ;; ===================================================================================================
  ;; Element-wise math on f32x4: exp (Cephes expf) and the functions built on it.
  ;;
  ;; V8 re-materialises every v128.const at each use inside a loop (3 instructions each), which made a
  ;; constant-heavy polynomial instruction-bound; so the constants live in a table in memory (written by
  ;; $init) and each function loads the ones it needs into locals once, before its loop.
  ;; ===================================================================================================

  ;; Constant table: CT = 3072 (inside the control block's first page, which the pool leaves unused).
  ;; 16 bytes per entry, the entry number × 16 is the `offset=` used below.
  ;;   0 clamp lo −104     1 clamp hi 89      2 log2(e)        3 ln2 high part   4 ln2 low part (negated)
  ;;   5..10 expf polynomial p0..p5            11 1.0           12 1.5·2²³ (round-to-int bias)
  ;;   13 i32 127 (exponent bias)              14..16 lane masks keeping the first 1, 2, 3 lanes
  ;;   17 −inf   18..22 tanhf polynomial       23 0.625         24 sign bit       25 −2√(2/π)
  ;;   26 0.044715          27 2.0            28..37 the constants of $expm_block
  (func (export "init")
    (v128.store offset=3072 (i32.const 0) (v128.const f32x4 -104 -104 -104 -104))
    (v128.store offset=3088 (i32.const 0) (v128.const f32x4 89 89 89 89))
    (v128.store offset=3104 (i32.const 0) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))
    (v128.store offset=3120 (i32.const 0) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
    (v128.store offset=3136 (i32.const 0) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
    (v128.store offset=3152 (i32.const 0) (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (v128.store offset=3168 (i32.const 0) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3))
    (v128.store offset=3184 (i32.const 0) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3))
    (v128.store offset=3200 (i32.const 0) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2))
    (v128.store offset=3216 (i32.const 0) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1))
    (v128.store offset=3232 (i32.const 0) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
    (v128.store offset=3248 (i32.const 0) (v128.const f32x4 1 1 1 1))
    (v128.store offset=3264 (i32.const 0) (v128.const f32x4 12582912 12582912 12582912 12582912))
    (v128.store offset=3280 (i32.const 0) (v128.const i32x4 127 127 127 127))
    (v128.store offset=3296 (i32.const 0) (v128.const i32x4 -1 0 0 0))
    (v128.store offset=3312 (i32.const 0) (v128.const i32x4 -1 -1 0 0))
    (v128.store offset=3328 (i32.const 0) (v128.const i32x4 -1 -1 -1 0))
    (v128.store offset=3344 (i32.const 0) (v128.const f32x4 -inf -inf -inf -inf))
    (v128.store offset=3360 (i32.const 0) (v128.const f32x4 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3))
    (v128.store offset=3376 (i32.const 0) (v128.const f32x4 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2))
    (v128.store offset=3392 (i32.const 0) (v128.const f32x4 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2))
    (v128.store offset=3408 (i32.const 0) (v128.const f32x4 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1))
    (v128.store offset=3424 (i32.const 0) (v128.const f32x4 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1))
    (v128.store offset=3440 (i32.const 0) (v128.const f32x4 0.625 0.625 0.625 0.625))
    (v128.store offset=3456 (i32.const 0) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))
    (v128.store offset=3472 (i32.const 0) (v128.const f32x4 -1.5957691216057308 -1.5957691216057308 -1.5957691216057308 -1.5957691216057308))
    (v128.store offset=3488 (i32.const 0) (v128.const f32x4 0.044715 0.044715 0.044715 0.044715))
    (v128.store offset=3504 (i32.const 0) (v128.const f32x4 2 2 2 2))
    ;; 28..37: exp for x <= 0 (softmax, logsumexp), XNNPACK's rr2-p5 scheme (max error 3·2^-24 relative)
    (v128.store offset=3520 (i32.const 0) (v128.const f32x4 0x1.715476p+0 0x1.715476p+0 0x1.715476p+0 0x1.715476p+0))
    (v128.store offset=3536 (i32.const 0) (v128.const f32x4 0x1.8000FEp23 0x1.8000FEp23 0x1.8000FEp23 0x1.8000FEp23))
    (v128.store offset=3552 (i32.const 0) (v128.const f32x4 -0x1.62E400p-1 -0x1.62E400p-1 -0x1.62E400p-1 -0x1.62E400p-1))
    (v128.store offset=3568 (i32.const 0) (v128.const f32x4 -0x1.7F7D1Cp-20 -0x1.7F7D1Cp-20 -0x1.7F7D1Cp-20 -0x1.7F7D1Cp-20))
    (v128.store offset=3584 (i32.const 0) (v128.const f32x4 0x1.0F9F9Cp-7 0x1.0F9F9Cp-7 0x1.0F9F9Cp-7 0x1.0F9F9Cp-7))
    (v128.store offset=3600 (i32.const 0) (v128.const f32x4 0x1.573A1Ap-5 0x1.573A1Ap-5 0x1.573A1Ap-5 0x1.573A1Ap-5))
    (v128.store offset=3616 (i32.const 0) (v128.const f32x4 0x1.555A80p-3 0x1.555A80p-3 0x1.555A80p-3 0x1.555A80p-3))
    (v128.store offset=3632 (i32.const 0) (v128.const f32x4 0x1.FFFDC6p-2 0x1.FFFDC6p-2 0x1.FFFDC6p-2 0x1.FFFDC6p-2))
    (v128.store offset=3648 (i32.const 0) (v128.const f32x4 0x1.FFFFF6p-1 0x1.FFFFF6p-1 0x1.FFFFF6p-1 0x1.FFFFF6p-1))
    (v128.store offset=3664 (i32.const 0) (v128.const f32x4 -0x1.5D589Ep6 -0x1.5D589Ep6 -0x1.5D589Ep6 -0x1.5D589Ep6)))

  (func $hmax (param $v v128) (result f32)
    (f32.max (f32.max (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
             (f32.max (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))
  (func $hsum (param $v v128) (result f32)
    (f32.add (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
             (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; Stores the first `left` (1..3) lanes of v at p: the end of a row whose length is not a multiple of 4.
  (func $store_part (param $p i32) (param $v v128) (param $left i32)
    (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $v)))
    (if (i32.gt_u (local.get $left) (i32.const 1))
      (then (f32.store offset=4 (local.get $p) (f32x4.extract_lane 1 (local.get $v)))))
    (if (i32.gt_u (local.get $left) (i32.const 2))
      (then (f32.store offset=8 (local.get $p) (f32x4.extract_lane 2 (local.get $v))))))

  ;; dst[i] = exp(src[i] − shift) for i < n (stored only when store != 0); returns Σ exp(src[i] − shift).
  ;; |relative error| ≲ 2 ulp; ±inf, NaN and underflow to 0 handled. x is clamped to [−104, 89] (beyond
  ;; which exp is 0 or +inf in float32); n = round(x·log2 e) comes from the 1.5·2²³ bias trick, and 2ⁿ is
  ;; applied as 2^(n>>1)·2^(n−(n>>1)) so n ∈ [−150, 128] needs no special case.
  ;; The loop body has no branch: without `store` the results go to a 16-byte sink (stage + 16); a
  ;; partial last vector is staged at `stage` with −inf in its unused lanes (exp → 0, nothing added to the
  ;; sum), run through the same loop once more, and its valid lanes copied out. `stage` is 32 bytes of the
  ;; calling thread's scratch.
  (func $exp_block (param $src i32) (param $dst i32) (param $n i32) (param $shift f32) (param $store i32) (param $stage i32)
                   (result f32)
    (local $cnt i32) (local $rem i32) (local $tail i32) (local $dstep i32) (local $out i32)
    (local $x v128) (local $fx v128) (local $r v128) (local $y v128)
    (local $k v128) (local $k1 v128) (local $vs v128) (local $vs2 v128) (local $vshift v128)
    (local $lo v128) (local $hi v128) (local $log2e v128) (local $c1 v128) (local $c2 v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128) (local $p4 v128) (local $p5 v128)
    (local $one v128) (local $magic v128) (local $bias v128)
    (local.set $lo (v128.load offset=3072 (i32.const 0)))
    (local.set $hi (v128.load offset=3088 (i32.const 0)))
    (local.set $log2e (v128.load offset=3104 (i32.const 0)))
    (local.set $c1 (v128.load offset=3120 (i32.const 0)))
    (local.set $c2 (v128.load offset=3136 (i32.const 0)))
    (local.set $p0 (v128.load offset=3152 (i32.const 0)))
    (local.set $p1 (v128.load offset=3168 (i32.const 0)))
    (local.set $p2 (v128.load offset=3184 (i32.const 0)))
    (local.set $p3 (v128.load offset=3200 (i32.const 0)))
    (local.set $p4 (v128.load offset=3216 (i32.const 0)))
    (local.set $p5 (v128.load offset=3232 (i32.const 0)))
    (local.set $one (v128.load offset=3248 (i32.const 0)))
    (local.set $magic (v128.load offset=3264 (i32.const 0)))
    (local.set $bias (v128.load offset=3280 (i32.const 0)))
    (local.set $vshift (f32x4.splat (local.get $shift)))
    (local.set $cnt (i32.shr_u (local.get $n) (i32.const 2)))
    (local.set $rem (i32.and (local.get $n) (i32.const 3)))
    (local.set $dstep (select (i32.const 16) (i32.const 0) (local.get $store)))
    (if (i32.eqz (local.get $store)) (then (local.set $dst (i32.add (local.get $stage) (i32.const 16)))))
    (loop $phase
      (block $end
        (loop $lp
          (br_if $end (i32.eqz (local.get $cnt)))
          ;; pmax / pmin keep a NaN x (their comparisons are false)
          (local.set $x (f32x4.pmin (f32x4.pmax (f32x4.sub (v128.load (local.get $src)) (local.get $vshift)) (local.get $lo))
                                    (local.get $hi)))
          (local.set $fx (f32x4.add (f32x4.mul (local.get $x) (local.get $log2e)) (local.get $magic)))
          (local.set $k (i32x4.sub (local.get $fx) (local.get $magic)))
          (local.set $fx (f32x4.sub (local.get $fx) (local.get $magic)))
          (local.set $r (f32x4.sub (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (local.get $c1)))
                                   (f32x4.mul (local.get $fx) (local.get $c2))))
          (local.set $y (f32x4.add (local.get $p1) (f32x4.mul (local.get $r) (local.get $p0))))
          (local.set $y (f32x4.add (local.get $p2) (f32x4.mul (local.get $r) (local.get $y))))
          (local.set $y (f32x4.add (local.get $p3) (f32x4.mul (local.get $r) (local.get $y))))
          (local.set $y (f32x4.add (local.get $p4) (f32x4.mul (local.get $r) (local.get $y))))
          (local.set $y (f32x4.add (local.get $p5) (f32x4.mul (local.get $r) (local.get $y))))
          (local.set $y (f32x4.add (f32x4.add (f32x4.mul (local.get $y) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
                                   (local.get $one)))
          (local.set $k1 (i32x4.shr_s (local.get $k) (i32.const 1)))
          (local.set $y (f32x4.mul
            (f32x4.mul (local.get $y) (i32x4.shl (i32x4.add (local.get $k1) (local.get $bias)) (i32.const 23)))
            (i32x4.shl (i32x4.add (i32x4.sub (local.get $k) (local.get $k1)) (local.get $bias)) (i32.const 23))))
          (v128.store (local.get $dst) (local.get $y))
          ;; two partial sums, taken in turn, halve the loop-carried chain of adds
          (local.set $x (f32x4.add (local.get $vs2) (local.get $y)))
          (local.set $vs2 (local.get $vs))
          (local.set $vs (local.get $x))
          (local.set $src (i32.add (local.get $src) (i32.const 16)))
          (local.set $dst (i32.add (local.get $dst) (local.get $dstep)))
          (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
          (br $lp)))
      (if (local.get $rem)
        (then
          (v128.store (local.get $stage)
            (v128.bitselect (v128.load (local.get $src)) (v128.load offset=3344 (i32.const 0))
              (v128.load offset=3280 (i32.shl (local.get $rem) (i32.const 4)))))
          (local.set $out (local.get $dst))
          (local.set $src (local.get $stage))
          (local.set $dst (local.get $stage))
          (local.set $tail (local.get $rem))
          (local.set $rem (i32.const 0))
          (local.set $cnt (i32.const 1))
          (br $phase))))
    (if (i32.and (i32.ne (local.get $tail) (i32.const 0)) (i32.ne (local.get $store) (i32.const 0)))
      (then (call $store_part (local.get $out) (v128.load (local.get $stage)) (local.get $tail))))
    (call $hsum (f32x4.add (local.get $vs) (local.get $vs2))))

  ;; $exp_block for arguments that are <= 0 (x − max in softmax and logsumexp), with a shorter body:
  ;; XNNPACK's rr2-p5 exp. n = round(x·log2 e) and 2ⁿ both come from one magic-biased add (its low
  ;; mantissa bits hold n + 127), the reduced argument t = x − n·ln2 in two steps, exp(t) ≈ 1 + t·p(t)
  ;; with p of degree 4; results below the float32 normal range (x < −87.34) flush to 0. Max relative
  ;; error 3·2⁻²⁴ (checked over [−87, 0]). NaN stays NaN; −inf gives 0.
  (func $expm_block (param $src i32) (param $dst i32) (param $n i32) (param $shift f32) (param $store i32) (param $stage i32)
                    (result f32)
    (local $cnt i32) (local $rem i32) (local $tail i32) (local $dstep i32) (local $out i32)
    (local $x v128) (local $vn v128) (local $vs v128) (local $vt v128) (local $vp v128)
    (local $sum v128) (local $vshift v128)
    (local $log2e v128) (local $magic v128) (local $mhi v128) (local $mlo v128)
    (local $c5 v128) (local $c4 v128) (local $c3 v128) (local $c2 v128) (local $c1 v128) (local $cut v128)
    (local.set $log2e (v128.load offset=3520 (i32.const 0)))
    (local.set $magic (v128.load offset=3536 (i32.const 0)))
    (local.set $mhi (v128.load offset=3552 (i32.const 0)))
    (local.set $mlo (v128.load offset=3568 (i32.const 0)))
    (local.set $c5 (v128.load offset=3584 (i32.const 0)))
    (local.set $c4 (v128.load offset=3600 (i32.const 0)))
    (local.set $c3 (v128.load offset=3616 (i32.const 0)))
    (local.set $c2 (v128.load offset=3632 (i32.const 0)))
    (local.set $c1 (v128.load offset=3648 (i32.const 0)))
    (local.set $cut (v128.load offset=3664 (i32.const 0)))
    (local.set $vshift (f32x4.splat (local.get $shift)))
    (local.set $cnt (i32.shr_u (local.get $n) (i32.const 2)))
    (local.set $rem (i32.and (local.get $n) (i32.const 3)))
    (local.set $dstep (select (i32.const 16) (i32.const 0) (local.get $store)))
    (if (i32.eqz (local.get $store)) (then (local.set $dst (i32.add (local.get $stage) (i32.const 16)))))
    (loop $phase
      (block $end
        (loop $lp
          (br_if $end (i32.eqz (local.get $cnt)))
          (local.set $x (f32x4.sub (v128.load (local.get $src)) (local.get $vshift)))
          (local.set $vn (f32x4.add (f32x4.mul (local.get $x) (local.get $log2e)) (local.get $magic)))
          (local.set $vs (i32x4.shl (local.get $vn) (i32.const 23)))
          (local.set $vn (f32x4.sub (local.get $vn) (local.get $magic)))
          (local.set $vt (f32x4.add (f32x4.mul (local.get $vn) (local.get $mhi)) (local.get $x)))
          (local.set $vt (f32x4.add (f32x4.mul (local.get $vn) (local.get $mlo)) (local.get $vt)))
          (local.set $vp (f32x4.add (f32x4.mul (local.get $c5) (local.get $vt)) (local.get $c4)))
          (local.set $vp (f32x4.add (f32x4.mul (local.get $vp) (local.get $vt)) (local.get $c3)))
          (local.set $vp (f32x4.add (f32x4.mul (local.get $vp) (local.get $vt)) (local.get $c2)))
          (local.set $vp (f32x4.add (f32x4.mul (local.get $vp) (local.get $vt)) (local.get $c1)))
          (local.set $vt (f32x4.mul (local.get $vt) (local.get $vs)))
          (local.set $vp (v128.andnot (f32x4.add (f32x4.mul (local.get $vt) (local.get $vp)) (local.get $vs))
                                      (f32x4.lt (local.get $x) (local.get $cut))))
          (v128.store (local.get $dst) (local.get $vp))
          (local.set $sum (f32x4.add (local.get $sum) (local.get $vp)))
          (local.set $src (i32.add (local.get $src) (i32.const 16)))
          (local.set $dst (i32.add (local.get $dst) (local.get $dstep)))
          (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
          (br $lp)))
      (if (local.get $rem)
        (then
          (v128.store (local.get $stage)
            (v128.bitselect (v128.load (local.get $src)) (v128.load offset=3344 (i32.const 0))
              (v128.load offset=3280 (i32.shl (local.get $rem) (i32.const 4)))))
          (local.set $out (local.get $dst))
          (local.set $src (local.get $stage))
          (local.set $dst (local.get $stage))
          (local.set $tail (local.get $rem))
          (local.set $rem (i32.const 0))
          (local.set $cnt (i32.const 1))
          (br $phase))))
    (if (i32.and (i32.ne (local.get $tail) (i32.const 0)) (i32.ne (local.get $store) (i32.const 0)))
      (then (call $store_part (local.get $out) (v128.load (local.get $stage)) (local.get $tail))))
    (call $hsum (local.get $sum)))

  ;; The passes around $exp_block for one chunk of n elements (full vectors into the padded `tmp`,
  ;; exact lanes into dst).
  ;; tmp = −x (sigmoid) | 2|x| (tanh) | −2u with u = √(2/π)(x + 0.044715x³) (gelu); mode 0 / 1 / 2
  (func $pre_pass (param $mode i32) (param $src i32) (param $tmp i32) (param $n i32)
    (local $i i32) (local $x v128) (local $k v128) (local $c v128) (local $one v128) (local $sign v128)
    (local.set $k (v128.load offset=3472 (i32.const 0)))
    (local.set $c (v128.load offset=3488 (i32.const 0)))
    (local.set $one (v128.load offset=3248 (i32.const 0)))
    (local.set $sign (v128.load offset=3456 (i32.const 0)))
    (local.set $i (i32.const 0))
    (block $end
      (loop $lp
        (br_if $end (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $x (v128.load (local.get $src)))
        (if (i32.eqz (local.get $mode))
          (then (local.set $x (v128.xor (local.get $x) (local.get $sign))))
          (else
            (if (i32.eq (local.get $mode) (i32.const 1))
              (then (local.set $x (f32x4.abs (local.get $x)))
                    (local.set $x (f32x4.add (local.get $x) (local.get $x))))
              (else (local.set $x (f32x4.mul (f32x4.mul (local.get $x) (local.get $k))
                      (f32x4.add (local.get $one) (f32x4.mul (local.get $c) (f32x4.mul (local.get $x) (local.get $x))))))))))
        (v128.store (local.get $tmp) (local.get $x))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $tmp (i32.add (local.get $tmp) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $lp))))

  ;; dst from e = tmp (= exp of the pre-pass) and x = src:
  ;;   mode 0 sigmoid: 1 / (1 + e)
  ;;   mode 1 tanh (Cephes tanhf): |x| < 0.625 ? x + x·z·P(z) (z = x²) : sign(x)·(1 − 2/(e + 1))
  ;;   mode 2 gelu: x / (1 + e)      (0.5·x·(1 + tanh u) = x·sigmoid(2u))
  ;; The results overwrite tmp in whole vectors, then exactly n floats are copied to dst.
  (func $post_pass (param $mode i32) (param $src i32) (param $tmp i32) (param $dst i32) (param $n i32)
    (local $i i32) (local $t i32) (local $x v128) (local $e v128) (local $y v128) (local $z v128) (local $p v128)
    (local $one v128) (local $two v128) (local $sign v128) (local $small v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $t4 v128)
    (local.set $one (v128.load offset=3248 (i32.const 0)))
    (local.set $two (v128.load offset=3504 (i32.const 0)))
    (local.set $sign (v128.load offset=3456 (i32.const 0)))
    (local.set $small (v128.load offset=3440 (i32.const 0)))
    (local.set $t0 (v128.load offset=3360 (i32.const 0)))
    (local.set $t1 (v128.load offset=3376 (i32.const 0)))
    (local.set $t2 (v128.load offset=3392 (i32.const 0)))
    (local.set $t3 (v128.load offset=3408 (i32.const 0)))
    (local.set $t4 (v128.load offset=3424 (i32.const 0)))
    (local.set $i (i32.const 0))
    (local.set $t (local.get $tmp))
    (block $end
      (loop $lp
        (br_if $end (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $x (v128.load (local.get $src)))
        (local.set $e (v128.load (local.get $t)))
        (if (i32.eqz (local.get $mode))
          (then (local.set $y (f32x4.div (local.get $one) (f32x4.add (local.get $one) (local.get $e)))))
          (else
            (if (i32.eq (local.get $mode) (i32.const 1))
              (then
                (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
                (local.set $p (f32x4.add (local.get $t1) (f32x4.mul (local.get $z) (local.get $t0))))
                (local.set $p (f32x4.add (local.get $t2) (f32x4.mul (local.get $z) (local.get $p))))
                (local.set $p (f32x4.add (local.get $t3) (f32x4.mul (local.get $z) (local.get $p))))
                (local.set $p (f32x4.add (local.get $t4) (f32x4.mul (local.get $z) (local.get $p))))
                (local.set $p (f32x4.add (local.get $x) (f32x4.mul (f32x4.mul (local.get $p) (local.get $z)) (local.get $x))))
                (local.set $y (f32x4.sub (local.get $one) (f32x4.div (local.get $two) (f32x4.add (local.get $e) (local.get $one)))))
                (local.set $y (v128.or (local.get $y) (v128.and (local.get $x) (local.get $sign))))
                (local.set $y (v128.bitselect (local.get $p) (local.get $y)
                  (f32x4.lt (f32x4.abs (local.get $x)) (local.get $small)))))
              (else (local.set $y (f32x4.div (local.get $x) (f32x4.add (local.get $one) (local.get $e))))))))
        (v128.store (local.get $t) (local.get $y))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $t (i32.add (local.get $t) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $lp)))
    (memory.copy (local.get $dst) (local.get $tmp) (i32.shl (local.get $n) (i32.const 2))))

  ;; The one-instruction unary ops, exact in float32 (the reference's float64 result rounds to the same
  ;; value): relu (pmax(0, x) = 0 < x ? x : 0, so NaN gives 0 as in the reference), neg, abs, square, sqrt,
  ;; reciprocal, sign (NaN and ±0 give 0). One loop per op over whole vectors. Op codes: wasm/opcodes.json,
  ;; expanded by scripts/build-wasm.mjs ({{code:…}} is an op's code, {{labels:…}} the br_table labels of a
  ;; range of ops in code order: each block is named after its op).
  (func $vsimple (param $op i32) (param $x v128) (result v128)
    (local $zero v128) (local $one v128) (local $mone v128)
    (local.set $one (v128.load offset=3248 (i32.const 0)))
    (local.set $mone (f32x4.neg (local.get $one)))
    (block $sign (block $reciprocal (block $sqrt (block $square (block $abs (block $neg (block $relu
      (br_table {{labels:unary:relu..sign}} $relu (i32.sub (local.get $op) (i32.const {{code:unary:relu}}))))
      (return (f32x4.pmax (local.get $zero) (local.get $x))))
      (return (f32x4.neg (local.get $x))))
      (return (f32x4.abs (local.get $x))))
      (return (f32x4.mul (local.get $x) (local.get $x))))
      (return (f32x4.sqrt (local.get $x))))
      (return (f32x4.div (local.get $one) (local.get $x))))
      (return (v128.or (v128.and (f32x4.gt (local.get $x) (local.get $zero)) (local.get $one)) (v128.and (f32x4.lt (local.get $x) (local.get $zero)) (local.get $mone))))
    unreachable)

  (func $simple_pass (param $op i32) (param $src i32) (param $dst i32) (param $n i32)
    (local $cnt i32) (local $x v128) (local $zero v128) (local $one v128) (local $mone v128)
    (local.set $one (v128.load offset=3248 (i32.const 0)))
    (local.set $mone (f32x4.neg (local.get $one)))
    (local.set $cnt (i32.shr_u (local.get $n) (i32.const 2)))
    (block $done
    (block $sign (block $reciprocal (block $sqrt (block $square (block $abs (block $neg (block $relu
      (br_table {{labels:unary:relu..sign}} $relu (i32.sub (local.get $op) (i32.const {{code:unary:relu}}))))
      (block $relu_end (loop $relu_lp
        (br_if $relu_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $src)))
        (v128.store (local.get $dst) (f32x4.pmax (local.get $zero) (local.get $x)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $relu_lp)))
      (br $done))
      (block $neg_end (loop $neg_lp
        (br_if $neg_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $src)))
        (v128.store (local.get $dst) (f32x4.neg (local.get $x)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $neg_lp)))
      (br $done))
      (block $abs_end (loop $abs_lp
        (br_if $abs_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $src)))
        (v128.store (local.get $dst) (f32x4.abs (local.get $x)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $abs_lp)))
      (br $done))
      (block $square_end (loop $square_lp
        (br_if $square_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $src)))
        (v128.store (local.get $dst) (f32x4.mul (local.get $x) (local.get $x)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $square_lp)))
      (br $done))
      (block $sqrt_end (loop $sqrt_lp
        (br_if $sqrt_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $src)))
        (v128.store (local.get $dst) (f32x4.sqrt (local.get $x)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $sqrt_lp)))
      (br $done))
      (block $recip_end (loop $recip_lp
        (br_if $recip_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $src)))
        (v128.store (local.get $dst) (f32x4.div (local.get $one) (local.get $x)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $recip_lp)))
      (br $done))
      (block $sign_end (loop $sign_lp
        (br_if $sign_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $src)))
        (v128.store (local.get $dst) (v128.or (v128.and (f32x4.gt (local.get $x) (local.get $zero)) (local.get $one)) (v128.and (f32x4.lt (local.get $x) (local.get $zero)) (local.get $mone))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $sign_lp)))
      (br $done)
    )
    (if (i32.and (local.get $n) (i32.const 3))
      (then (call $store_part (local.get $dst) (call $vsimple (local.get $op) (v128.load (local.get $src)))
              (i32.and (local.get $n) (i32.const 3))))))

  ;; dst[i] = f(src[i]) for i < len; ops exp, sigmoid, tanh, geluTanh, then those of $vsimple (wasm/opcodes.json).
  ;; dst may equal src.
  ;; Works in chunks of 1024 through `tmp` (the thread's scratch: 4096 + 16 bytes, then 32 bytes of
  ;; exp staging at tmp + 4160), so every pass stays in L1.
  (func $unary_impl (param $op i32) (param $src i32) (param $dst i32) (param $len i32) (param $tmp i32)
    (local $n i32)
    (block $end
      (loop $chunks
        (br_if $end (i32.le_s (local.get $len) (i32.const 0)))
        (local.set $n (select (i32.const 1024) (local.get $len) (i32.gt_s (local.get $len) (i32.const 1024))))
        (block $simple (block $geluTanh (block $tanh (block $sigmoid (block $exp
          (br_table {{labels:unary:exp..geluTanh}} $simple (local.get $op)))
          ;; exp
          (drop (call $exp_block (local.get $src) (local.get $dst) (local.get $n) (f32.const 0) (i32.const 1) (i32.add (local.get $tmp) (i32.const 4160))))
          (br $simple))
          ;; sigmoid
          (call $pre_pass (i32.const 0) (local.get $src) (local.get $tmp) (local.get $n))
          (drop (call $exp_block (local.get $tmp) (local.get $tmp) (local.get $n) (f32.const 0) (i32.const 1) (i32.add (local.get $tmp) (i32.const 4160))))
          (call $post_pass (i32.const 0) (local.get $src) (local.get $tmp) (local.get $dst) (local.get $n))
          (br $simple))
          ;; tanh
          (call $pre_pass (i32.const 1) (local.get $src) (local.get $tmp) (local.get $n))
          (drop (call $exp_block (local.get $tmp) (local.get $tmp) (local.get $n) (f32.const 0) (i32.const 1) (i32.add (local.get $tmp) (i32.const 4160))))
          (call $post_pass (i32.const 1) (local.get $src) (local.get $tmp) (local.get $dst) (local.get $n))
          (br $simple))
          ;; geluTanh
          (call $pre_pass (i32.const 2) (local.get $src) (local.get $tmp) (local.get $n))
          (drop (call $exp_block (local.get $tmp) (local.get $tmp) (local.get $n) (f32.const 0) (i32.const 1) (i32.add (local.get $tmp) (i32.const 4160))))
          (call $post_pass (i32.const 2) (local.get $src) (local.get $tmp) (local.get $dst) (local.get $n))
          (br $simple))
        ;; the exit of every case above; only ops >= 4 arrive here by the br_table itself
        (if (i32.ge_u (local.get $op) (i32.const {{code:unary:relu}}))
          (then (call $simple_pass (local.get $op) (local.get $src) (local.get $dst) (local.get $n))))
        (local.set $src (i32.add (local.get $src) (i32.const 4096)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4096)))
        (local.set $len (i32.sub (local.get $len) (local.get $n)))
        (br $chunks))))

  ;; ===================================================================================================
  ;; Broadcasting binary ops over a [rows, cols] iteration space: the same-shape, scalar, row-broadcast
  ;; ([r, c] ∘ [c]) and column-broadcast ([r, c] ∘ [r, 1]) cases the host maps onto it.
  ;; Results equal the reference's float32 results exactly: +, −, ×, ÷ of float32 values rounded once
  ;; are what float64 arithmetic rounded to float32 gives, and maximum / minimum / comparisons follow
  ;; the reference's NaN and signed-zero rules.
  ;; ===================================================================================================

  ;; op: add sub mul div maximum minimum eq ne lt le gt ge, codes from wasm/opcodes.json
  (func $vbin (param $op i32) (param $a v128) (param $b v128) (result v128)
    (block $ge (block $gt (block $le (block $lt (block $ne (block $eq (block $minimum (block $maximum
    (block $div (block $mul (block $sub (block $add
      (br_table {{labels:binary:add..ge}} $add (local.get $op)))
      (return (f32x4.add (local.get $a) (local.get $b))))
      (return (f32x4.sub (local.get $a) (local.get $b))))
      (return (f32x4.mul (local.get $a) (local.get $b))))
      (return (f32x4.div (local.get $a) (local.get $b))))
      ;; maximum: a >= b || a is NaN ? a : b
      (return (v128.bitselect (local.get $a) (local.get $b)
        (v128.or (f32x4.ge (local.get $a) (local.get $b)) (f32x4.ne (local.get $a) (local.get $a))))))
      ;; minimum: a <= b || a is NaN ? a : b
      (return (v128.bitselect (local.get $a) (local.get $b)
        (v128.or (f32x4.le (local.get $a) (local.get $b)) (f32x4.ne (local.get $a) (local.get $a))))))
      (return (v128.and (f32x4.eq (local.get $a) (local.get $b)) (v128.const f32x4 1 1 1 1))))
      (return (v128.and (f32x4.ne (local.get $a) (local.get $b)) (v128.const f32x4 1 1 1 1))))
      (return (v128.and (f32x4.lt (local.get $a) (local.get $b)) (v128.const f32x4 1 1 1 1))))
      (return (v128.and (f32x4.le (local.get $a) (local.get $b)) (v128.const f32x4 1 1 1 1))))
      (return (v128.and (f32x4.gt (local.get $a) (local.get $b)) (v128.const f32x4 1 1 1 1))))
    (v128.and (f32x4.ge (local.get $a) (local.get $b)) (v128.const f32x4 1 1 1 1)))

  ;; The whole vectors of one row: out[j] = op(load pa, load pb) for j < cnt, pa / pb advancing by
  ;; astep / bstep bytes (0 for a splatted scalar). One loop per op, so the loop body has no dispatch.
  (func $bin_span (param $op i32) (param $pa i32) (param $astep i32) (param $pb i32) (param $bstep i32)
                  (param $out i32) (param $cnt i32)
    (local $x v128) (local $y v128) (local $one v128)
    (local.set $one (v128.load offset=3248 (i32.const 0)))
    (block $done
    (block $ge (block $gt (block $le (block $lt (block $ne (block $eq (block $minimum (block $maximum (block $div (block $mul (block $sub (block $add
      (br_table {{labels:binary:add..ge}} $add (local.get $op)))
      ;; add
      (block $add_end (loop $add_lp
        (br_if $add_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (f32x4.add (local.get $x) (local.get $y)))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $add_lp)))
      (br $done))
      ;; sub
      (block $sub_end (loop $sub_lp
        (br_if $sub_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (f32x4.sub (local.get $x) (local.get $y)))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $sub_lp)))
      (br $done))
      ;; mul
      (block $mul_end (loop $mul_lp
        (br_if $mul_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (f32x4.mul (local.get $x) (local.get $y)))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $mul_lp)))
      (br $done))
      ;; div
      (block $div_end (loop $div_lp
        (br_if $div_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (f32x4.div (local.get $x) (local.get $y)))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $div_lp)))
      (br $done))
      ;; max
      (block $max_end (loop $max_lp
        (br_if $max_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (v128.bitselect (local.get $x) (local.get $y) (v128.or (f32x4.ge (local.get $x) (local.get $y)) (f32x4.ne (local.get $x) (local.get $x)))))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $max_lp)))
      (br $done))
      ;; min
      (block $min_end (loop $min_lp
        (br_if $min_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (v128.bitselect (local.get $x) (local.get $y) (v128.or (f32x4.le (local.get $x) (local.get $y)) (f32x4.ne (local.get $x) (local.get $x)))))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $min_lp)))
      (br $done))
      ;; eq
      (block $eq_end (loop $eq_lp
        (br_if $eq_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (v128.and (f32x4.eq (local.get $x) (local.get $y)) (local.get $one)))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $eq_lp)))
      (br $done))
      ;; ne
      (block $ne_end (loop $ne_lp
        (br_if $ne_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (v128.and (f32x4.ne (local.get $x) (local.get $y)) (local.get $one)))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $ne_lp)))
      (br $done))
      ;; lt
      (block $lt_end (loop $lt_lp
        (br_if $lt_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (v128.and (f32x4.lt (local.get $x) (local.get $y)) (local.get $one)))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $lt_lp)))
      (br $done))
      ;; le
      (block $le_end (loop $le_lp
        (br_if $le_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (v128.and (f32x4.le (local.get $x) (local.get $y)) (local.get $one)))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $le_lp)))
      (br $done))
      ;; gt
      (block $gt_end (loop $gt_lp
        (br_if $gt_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (v128.and (f32x4.gt (local.get $x) (local.get $y)) (local.get $one)))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $gt_lp)))
      (br $done))
      ;; ge
      (block $ge_end (loop $ge_lp
        (br_if $ge_end (i32.eqz (local.get $cnt)))
        (local.set $x (v128.load (local.get $pa)))
        (local.set $y (v128.load (local.get $pb)))
        (v128.store (local.get $out) (v128.and (f32x4.ge (local.get $x) (local.get $y)) (local.get $one)))
        (local.set $pa (i32.add (local.get $pa) (local.get $astep)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bstep)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
        (br $ge_lp)))
      (br $done)
    ))

  ;; out[r, c] = op(A(r, c), B(r, c)) for r < rows, c < cols, out contiguous [rows, cols].
  ;; A(r, c) is the float at a + r·ars + 4c, or at a + r·ars for every c when ascal != 0 (ars in bytes,
  ;; 0 repeats one row); likewise B. stage: 32 bytes of the thread's scratch (the splatted scalars).
  (func $binary_impl (param $op i32) (param $a i32) (param $ars i32) (param $ascal i32)
                          (param $b i32) (param $brs i32) (param $bscal i32)
                          (param $out i32) (param $rows i32) (param $cols i32) (param $stage i32)
    (local $r i32) (local $i i32) (local $pa i32) (local $pb i32) (local $astep i32) (local $bstep i32)
    (local $y v128)
    (local.set $astep (select (i32.const 0) (i32.const 16) (local.get $ascal)))
    (local.set $bstep (select (i32.const 0) (i32.const 16) (local.get $bscal)))
    (local.set $r (i32.const 0))
    (block $rows_end
      (loop $rows_lp
        (br_if $rows_end (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $ars))))
        (local.set $pb (i32.add (local.get $b) (i32.mul (local.get $r) (local.get $brs))))
        (if (local.get $ascal) (then
          (v128.store (local.get $stage) (v128.load32_splat (local.get $pa)))
          (local.set $pa (local.get $stage))))
        (if (local.get $bscal) (then
          (v128.store offset=16 (local.get $stage) (v128.load32_splat (local.get $pb)))
          (local.set $pb (i32.add (local.get $stage) (i32.const 16)))))
        (call $bin_span (local.get $op) (local.get $pa) (local.get $astep) (local.get $pb) (local.get $bstep) (local.get $out)
          (i32.shr_u (local.get $cols) (i32.const 2)))
        (local.set $i (i32.and (local.get $cols) (i32.const -4)))
        (if (i32.and (local.get $cols) (i32.const 3))
          (then
            (call $store_part (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
              (call $vbin (local.get $op)
                (v128.load (i32.add (local.get $pa) (i32.mul (i32.shr_u (local.get $i) (i32.const 2)) (local.get $astep))))
                (v128.load (i32.add (local.get $pb) (i32.mul (i32.shr_u (local.get $i) (i32.const 2)) (local.get $bstep)))))
              (i32.and (local.get $cols) (i32.const 3)))))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows_lp))))

  ;; ===================================================================================================
  ;; Row kernels over a [rows, cols] view (last axis).
  ;; ===================================================================================================

  ;; max over cols floats at p; NaN propagates (as Math.max). Four independent pmax chains (pmax is one
  ;; instruction; f32x4.max's NaN rules cost several, on the loop-carried path) and a separate NaN flag.
  (func $row_max (param $p i32) (param $cols i32) (result f32)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $nan v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $m f32) (local $i i32) (local $end i32)
    (local.set $m0 (v128.load offset=3344 (i32.const 0)))
    (local.set $m1 (local.get $m0))
    (local.set $m2 (local.get $m0))
    (local.set $m3 (local.get $m0))
    (local.set $end (i32.and (local.get $cols) (i32.const -16)))
    (local.set $i (i32.const 0))
    (block $e (loop $l
      (br_if $e (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $v0 (v128.load (local.get $p)))
      (local.set $v1 (v128.load offset=16 (local.get $p)))
      (local.set $v2 (v128.load offset=32 (local.get $p)))
      (local.set $v3 (v128.load offset=48 (local.get $p)))
      (local.set $m0 (f32x4.pmax (local.get $m0) (local.get $v0)))
      (local.set $m1 (f32x4.pmax (local.get $m1) (local.get $v1)))
      (local.set $m2 (f32x4.pmax (local.get $m2) (local.get $v2)))
      (local.set $m3 (f32x4.pmax (local.get $m3) (local.get $v3)))
      (local.set $nan (v128.or (local.get $nan)
        (v128.or (v128.or (f32x4.ne (local.get $v0) (local.get $v0)) (f32x4.ne (local.get $v1) (local.get $v1)))
                 (v128.or (f32x4.ne (local.get $v2) (local.get $v2)) (f32x4.ne (local.get $v3) (local.get $v3))))))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l)))
    (local.set $m (call $hmax (f32x4.pmax (f32x4.pmax (local.get $m0) (local.get $m1)) (f32x4.pmax (local.get $m2) (local.get $m3)))))
    (if (v128.any_true (local.get $nan)) (then (local.set $m (f32.const nan))))
    (block $e2 (loop $l2
      (br_if $e2 (i32.ge_u (local.get $i) (local.get $cols)))
      (local.set $m (f32.max (local.get $m) (f32.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l2)))
    (local.get $m))

  ;; out[i] = x[i]·mul + add over a row
  (func $row_affine (param $p i32) (param $out i32) (param $cols i32) (param $mul f32) (param $add f32)
    (local $vm v128) (local $va v128) (local $i i32) (local $end i32)
    (local.set $vm (f32x4.splat (local.get $mul)))
    (local.set $va (f32x4.splat (local.get $add)))
    (local.set $end (i32.and (local.get $cols) (i32.const -4)))
    (local.set $i (i32.const 0))
    (block $e (loop $l
      (br_if $e (i32.ge_u (local.get $i) (local.get $end)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))) (local.get $vm)) (local.get $va)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (block $e2 (loop $l2
      (br_if $e2 (i32.ge_u (local.get $i) (local.get $cols)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32.add (f32.mul (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))) (local.get $mul)) (local.get $add)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l2))))

  ;; softmax over each row: out = exp(x − max) / Σ. A row whose max is ±inf or NaN gives what the
  ;; reference gives (NaN where exp(x − max) is NaN).
  (func $softmax_impl (param $x i32) (param $out i32) (param $rows i32) (param $cols i32) (param $stage i32)
    (local $r i32) (local $mx f32) (local $s f32) (local $stride i32)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $r (i32.const 0))
    (block $e (loop $l
      (br_if $e (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $mx (call $row_max (local.get $x) (local.get $cols)))
      (local.set $s (call $expm_block (local.get $x) (local.get $out) (local.get $cols) (local.get $mx) (i32.const 1) (local.get $stage)))
      (call $row_affine (local.get $out) (local.get $out) (local.get $cols) (f32.div (f32.const 1) (local.get $s)) (f32.const 0))
      (local.set $x (i32.add (local.get $x) (local.get $stride)))
      (local.set $out (i32.add (local.get $out) (local.get $stride)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $l))))

  ;; logsumexp of the row at p (−inf for a row of −inf), the logarithm in float64 through the import.
  (func $row_lse (param $p i32) (param $cols i32) (param $stage i32) (result f32)
    (local $mx f32)
    (local.set $mx (call $row_max (local.get $p) (local.get $cols)))
    (if (f32.eq (local.get $mx) (f32.const -inf)) (then (return (f32.const -inf))))
    (f32.add (local.get $mx)
      (f32.demote_f64 (call $log (f64.promote_f32 (call $expm_block (local.get $p) (i32.const 0) (local.get $cols) (local.get $mx) (i32.const 0) (local.get $stage)))))))

  ;; logSoftmax over each row: out = x − logsumexp(x).
  (func $log_softmax_impl (param $x i32) (param $out i32) (param $rows i32) (param $cols i32) (param $stage i32)
    (local $r i32) (local $stride i32)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $r (i32.const 0))
    (block $e (loop $l
      (br_if $e (i32.ge_u (local.get $r) (local.get $rows)))
      (call $row_affine (local.get $x) (local.get $out) (local.get $cols) (f32.const 1)
        (f32.neg (call $row_lse (local.get $x) (local.get $cols) (local.get $stage))))
      (local.set $x (i32.add (local.get $x) (local.get $stride)))
      (local.set $out (i32.add (local.get $out) (local.get $stride)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $l))))

  ;; crossEntropy: out[r] = logsumexp(row r) − x[r, t[r]] for t[r] >= 0, else 0. t is int32 [rows].
  (func $cross_entropy_impl (param $x i32) (param $t i32) (param $out i32) (param $rows i32) (param $cols i32)
                                 (param $stage i32)
    (local $r i32) (local $tr i32) (local $stride i32)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $r (i32.const 0))
    (block $e (loop $l
      (br_if $e (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $tr (i32.load (local.get $t)))
      (if (i32.lt_s (local.get $tr) (i32.const 0))
        (then (f32.store (local.get $out) (f32.const 0)))
        (else (f32.store (local.get $out)
          (f32.sub (call $row_lse (local.get $x) (local.get $cols) (local.get $stage))
                   (f32.load (i32.add (local.get $x) (i32.shl (local.get $tr) (i32.const 2))))))))
      (local.set $x (i32.add (local.get $x) (local.get $stride)))
      (local.set $t (i32.add (local.get $t) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $l))))

  ;; layerNorm over each row: y = (x − μ)·rstd·γ + β, rstd = 1/√(var + eps) (two-pass variance).
  ;; gamma / beta are addresses of [cols] vectors, or 0 for none. mean and rstd receive [rows]. eps is the
  ;; float64 at address epsp (an address, so that every argument of every export is an i32).
  (func $layer_norm_impl (param $x i32) (param $y i32) (param $mean i32) (param $rstd i32)
                              (param $rows i32) (param $cols i32) (param $gamma i32) (param $beta i32) (param $epsp i32)
    (local $r i32) (local $i i32) (local $end i32) (local $stride i32) (local $vs v128) (local $d v128)
    (local $mu f32) (local $var f32) (local $rs f32) (local $vmu v128) (local $vrs v128) (local $v v128)
    (local $s f32) (local $ds f32)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $end (i32.and (local.get $cols) (i32.const -4)))
    (local.set $r (i32.const 0))
    (block $e (loop $l
      (br_if $e (i32.ge_u (local.get $r) (local.get $rows)))
      ;; mean
      (local.set $vs (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (block $e1 (loop $l1
        (br_if $e1 (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $vs (f32x4.add (local.get $vs) (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l1)))
      (local.set $s (call $hsum (local.get $vs)))
      (block $e2 (loop $l2
        (br_if $e2 (i32.ge_u (local.get $i) (local.get $cols)))
        (local.set $s (f32.add (local.get $s) (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l2)))
      (local.set $mu (f32.div (local.get $s) (f32.convert_i32_u (local.get $cols))))
      (local.set $vmu (f32x4.splat (local.get $mu)))
      ;; variance
      (local.set $vs (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (block $e3 (loop $l3
        (br_if $e3 (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (local.get $vmu)))
        (local.set $vs (f32x4.add (local.get $vs) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l3)))
      (local.set $s (call $hsum (local.get $vs)))
      (block $e4 (loop $l4
        (br_if $e4 (i32.ge_u (local.get $i) (local.get $cols)))
        (local.set $ds (f32.sub (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (local.get $mu)))
        (local.set $s (f32.add (local.get $s) (f32.mul (local.get $ds) (local.get $ds))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l4)))
      (local.set $var (f32.div (local.get $s) (f32.convert_i32_u (local.get $cols))))
      (local.set $rs (f32.demote_f64 (f64.div (f64.const 1)
        (f64.sqrt (f64.add (f64.promote_f32 (local.get $var)) (f64.load (local.get $epsp)))))))
      (f32.store (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2))) (local.get $mu))
      (f32.store (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))) (local.get $rs))
      (local.set $vrs (f32x4.splat (local.get $rs)))
      ;; normalize, scale, shift
      (local.set $i (i32.const 0))
      (block $e5 (loop $l5
        (br_if $e5 (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (local.get $vmu))
                                 (local.get $vrs)))
        (if (local.get $gamma) (then (local.set $v (f32x4.mul (local.get $v)
          (v128.load (i32.add (local.get $gamma) (i32.shl (local.get $i) (i32.const 2))))))))
        (if (local.get $beta) (then (local.set $v (f32x4.add (local.get $v)
          (v128.load (i32.add (local.get $beta) (i32.shl (local.get $i) (i32.const 2))))))))
        (v128.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))) (local.get $v))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l5)))
      (block $e6 (loop $l6
        (br_if $e6 (i32.ge_u (local.get $i) (local.get $cols)))
        (local.set $s (f32.mul (f32.sub (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))) (local.get $mu))
                               (local.get $rs)))
        (if (local.get $gamma) (then (local.set $s (f32.mul (local.get $s)
          (f32.load (i32.add (local.get $gamma) (i32.shl (local.get $i) (i32.const 2))))))))
        (if (local.get $beta) (then (local.set $s (f32.add (local.get $s)
          (f32.load (i32.add (local.get $beta) (i32.shl (local.get $i) (i32.const 2))))))))
        (f32.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l6)))
      (local.set $x (i32.add (local.get $x) (local.get $stride)))
      (local.set $y (i32.add (local.get $y) (local.get $stride)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $l))))

  ;; ===================================================================================================
  ;; The exports the thread pool runs: the problem's arguments, then (scratch, lo, hi), where [lo, hi) is
  ;; the range of rows (or elements) of the output this call computes.
  ;; ===================================================================================================

  ;; dst[i] = f(src[i]) for i in [lo, hi)
  (func (export "unary") (param $op i32) (param $src i32) (param $dst i32) (param $scratch i32) (param $lo i32) (param $hi i32)
    (call $unary_impl (local.get $op) (i32.add (local.get $src) (i32.shl (local.get $lo) (i32.const 2)))
      (i32.add (local.get $dst) (i32.shl (local.get $lo) (i32.const 2))) (i32.sub (local.get $hi) (local.get $lo))
      (local.get $scratch)))

  ;; rows [lo, hi) of a [rows, cols] binary op (see $binary_impl for the operands)
  (func (export "binary") (param $op i32) (param $a i32) (param $ars i32) (param $ascal i32)
                          (param $b i32) (param $brs i32) (param $bscal i32) (param $out i32) (param $cols i32)
                          (param $scratch i32) (param $lo i32) (param $hi i32)
    (call $binary_impl (local.get $op)
      (i32.add (local.get $a) (i32.mul (local.get $lo) (local.get $ars))) (local.get $ars) (local.get $ascal)
      (i32.add (local.get $b) (i32.mul (local.get $lo) (local.get $brs))) (local.get $brs) (local.get $bscal)
      (i32.add (local.get $out) (i32.shl (i32.mul (local.get $lo) (local.get $cols)) (i32.const 2)))
      (i32.sub (local.get $hi) (local.get $lo)) (local.get $cols) (local.get $scratch)))

  ;; elements [lo, hi) of a flat binary op: a (or the scalar a[0] when ascal) with b likewise
  (func (export "binary_flat") (param $op i32) (param $a i32) (param $ascal i32) (param $b i32) (param $bscal i32)
                               (param $out i32) (param $scratch i32) (param $lo i32) (param $hi i32)
    (call $binary_impl (local.get $op)
      (select (local.get $a) (i32.add (local.get $a) (i32.shl (local.get $lo) (i32.const 2))) (local.get $ascal))
      (i32.const 0) (local.get $ascal)
      (select (local.get $b) (i32.add (local.get $b) (i32.shl (local.get $lo) (i32.const 2))) (local.get $bscal))
      (i32.const 0) (local.get $bscal)
      (i32.add (local.get $out) (i32.shl (local.get $lo) (i32.const 2)))
      (i32.const 1) (i32.sub (local.get $hi) (local.get $lo)) (local.get $scratch)))

  (func (export "softmax") (param $x i32) (param $out i32) (param $cols i32) (param $scratch i32) (param $lo i32) (param $hi i32)
    (call $softmax_impl
      (i32.add (local.get $x) (i32.shl (i32.mul (local.get $lo) (local.get $cols)) (i32.const 2)))
      (i32.add (local.get $out) (i32.shl (i32.mul (local.get $lo) (local.get $cols)) (i32.const 2)))
      (i32.sub (local.get $hi) (local.get $lo)) (local.get $cols) (local.get $scratch)))

  (func (export "log_softmax") (param $x i32) (param $out i32) (param $cols i32) (param $scratch i32) (param $lo i32) (param $hi i32)
    (call $log_softmax_impl
      (i32.add (local.get $x) (i32.shl (i32.mul (local.get $lo) (local.get $cols)) (i32.const 2)))
      (i32.add (local.get $out) (i32.shl (i32.mul (local.get $lo) (local.get $cols)) (i32.const 2)))
      (i32.sub (local.get $hi) (local.get $lo)) (local.get $cols) (local.get $scratch)))

  (func (export "cross_entropy") (param $x i32) (param $t i32) (param $out i32) (param $cols i32)
                                 (param $scratch i32) (param $lo i32) (param $hi i32)
    (call $cross_entropy_impl
      (i32.add (local.get $x) (i32.shl (i32.mul (local.get $lo) (local.get $cols)) (i32.const 2)))
      (i32.add (local.get $t) (i32.shl (local.get $lo) (i32.const 2)))
      (i32.add (local.get $out) (i32.shl (local.get $lo) (i32.const 2)))
      (i32.sub (local.get $hi) (local.get $lo)) (local.get $cols) (local.get $scratch)))

  (func (export "layer_norm") (param $x i32) (param $y i32) (param $mean i32) (param $rstd i32) (param $cols i32)
                              (param $gamma i32) (param $beta i32) (param $epsp i32)
                              (param $scratch i32) (param $lo i32) (param $hi i32)
    (call $layer_norm_impl
      (i32.add (local.get $x) (i32.shl (i32.mul (local.get $lo) (local.get $cols)) (i32.const 2)))
      (i32.add (local.get $y) (i32.shl (i32.mul (local.get $lo) (local.get $cols)) (i32.const 2)))
      (i32.add (local.get $mean) (i32.shl (local.get $lo) (i32.const 2)))
      (i32.add (local.get $rstd) (i32.shl (local.get $lo) (i32.const 2)))
      (i32.sub (local.get $hi) (local.get $lo)) (local.get $cols) (local.get $gamma) (local.get $beta) (local.get $epsp)))
)
