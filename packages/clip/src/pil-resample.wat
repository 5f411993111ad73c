;; The two passes of Pillow's 8-bit resample (ImagingResample) in WebAssembly SIMD, driven by pil-resample.ts: the same
;; 22-bit fixed-point weights, the same int32 sums (they never overflow: |sum| <= 255 * sum|w| < 2^31) and the same
;; clip8 — (sum >> 22) clamped to 0..255, here the shift followed by the two saturating narrows — so every byte equals
;; Pillow's. Assembled into pil-resample.wasm by `pnpm clip:wasm`; a test checks the two files agree.
;; Reads and writes may run up to 16 bytes past a buffer's end: pil-resample.ts leaves that much slack after each.
(module
  (memory (export "memory") 1)

  ;; Horizontal pass for 3- or 4-channel pixels, one pixel (all its channels) per vector.
  ;; src: `rows` rows of `srcStride` bytes; for output column i: first tap start[i] (pixels), count[i] taps,
  ;; weights[i * ksize ..]; out: `rows` rows of n * ch bytes.
  (func (export "horizontal")
    (param $src i32) (param $srcStride i32) (param $rows i32) (param $ch i32) (param $n i32)
    (param $start i32) (param $count i32) (param $weights i32) (param $ksize i32) (param $out i32)
    (local $y i32) (local $i i32) (local $row i32) (local $p i32) (local $wp i32) (local $end i32)
    (local $acc v128)
    (local.set $row (local.get $src))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $i (i32.const 0))
        (block $colsDone
          (loop $colLoop
            (br_if $colsDone (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $p
              (i32.add (local.get $row)
                (i32.mul (i32.load (i32.add (local.get $start) (i32.shl (local.get $i) (i32.const 2))))
                  (local.get $ch))))
            (local.set $wp
              (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $i) (local.get $ksize)) (i32.const 2))))
            (local.set $end
              (i32.add (local.get $wp)
                (i32.shl (i32.load (i32.add (local.get $count) (i32.shl (local.get $i) (i32.const 2))))
                  (i32.const 2))))
            (local.set $acc (v128.const i32x4 2097152 2097152 2097152 2097152))
            (block $tapsDone
              (loop $tapLoop
                (br_if $tapsDone (i32.ge_u (local.get $wp) (local.get $end)))
                (local.set $acc
                  (i32x4.add (local.get $acc)
                    (i32x4.mul
                      (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p))))
                      (i32x4.splat (i32.load (local.get $wp))))))
                (local.set $p (i32.add (local.get $p) (local.get $ch)))
                (local.set $wp (i32.add (local.get $wp) (i32.const 4)))
                (br $tapLoop)))
            ;; Four bytes are stored; with 3 channels the fourth is overwritten by the next pixel (or is padding).
            (v128.store32_lane 0 (local.get $out)
              (i8x16.narrow_i16x8_u
                (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $acc) (i32.const 22)) (local.get $acc))
                (local.get $acc)))
            (local.set $out (i32.add (local.get $out) (local.get $ch)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $colLoop)))
        (local.set $row (i32.add (local.get $row) (local.get $srcStride)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rowLoop))))

  ;; Vertical pass over rows of `stride` bytes, any channel count, 16 bytes per step.
  ;; For output row j: first tap start[j] (rows of src), count[j] taps, weights[j * ksize ..]; out: `rows` rows.
  (func (export "vertical")
    (param $src i32) (param $stride i32) (param $rows i32)
    (param $start i32) (param $count i32) (param $weights i32) (param $ksize i32) (param $out i32)
    (local $j i32) (local $x i32) (local $base i32) (local $q i32) (local $wp i32) (local $end i32)
    (local $w v128) (local $v v128) (local $lo v128) (local $hi v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $j) (local.get $rows)))
        (local.set $base
          (i32.add (local.get $src)
            (i32.mul (i32.load (i32.add (local.get $start) (i32.shl (local.get $j) (i32.const 2))))
              (local.get $stride))))
        (local.set $x (i32.const 0))
        (block $stepsDone
          (loop $stepLoop
            (br_if $stepsDone (i32.ge_u (local.get $x) (local.get $stride)))
            (local.set $a0 (v128.const i32x4 2097152 2097152 2097152 2097152))
            (local.set $a1 (local.get $a0))
            (local.set $a2 (local.get $a0))
            (local.set $a3 (local.get $a0))
            (local.set $q (i32.add (local.get $base) (local.get $x)))
            (local.set $wp
              (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $j) (local.get $ksize)) (i32.const 2))))
            (local.set $end
              (i32.add (local.get $wp)
                (i32.shl (i32.load (i32.add (local.get $count) (i32.shl (local.get $j) (i32.const 2))))
                  (i32.const 2))))
            (block $tapsDone
              (loop $tapLoop
                (br_if $tapsDone (i32.ge_u (local.get $wp) (local.get $end)))
                (local.set $w (i32x4.splat (i32.load (local.get $wp))))
                (local.set $v (v128.load (local.get $q)))
                (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
                (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
                (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $w))))
                (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $w))))
                (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $w))))
                (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $w))))
                (local.set $q (i32.add (local.get $q) (local.get $stride)))
                (local.set $wp (i32.add (local.get $wp) (i32.const 4)))
                (br $tapLoop)))
            ;; Past the row's end the bytes belong to the next row (written again with it) or to padding.
            (v128.store
              (i32.add (local.get $out) (local.get $x))
              (i8x16.narrow_i16x8_u
                (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a0) (i32.const 22)) (i32x4.shr_s (local.get $a1) (i32.const 22)))
                (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a2) (i32.const 22)) (i32x4.shr_s (local.get $a3) (i32.const 22)))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $stepLoop)))
        (local.set $out (i32.add (local.get $out) (local.get $stride)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rowLoop))))
)
