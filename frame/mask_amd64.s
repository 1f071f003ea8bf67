//go:build !purego

#include "textflag.h"

// The kernels below XOR the n bytes at p with a 32-bit key whose low byte
// applies to p[0], at any length and alignment. They share one plan:
//
//   - Below one vector (16, 32 or 64 bytes), two overlapping loads and stores
//     of the widest size that fits (32, 16, 8 or 4 bytes), or bytes below 4.
//     Both loads happen before either store, and each half is XORed with the
//     key rotated for its own offset, so the overlap is written twice with
//     the same, correct value.
//   - From one vector on, a head vector at p and a tail vector ending at p+n,
//     both loaded before anything is stored and stored last, with keys
//     rotated for their offsets. Up to two vectors, they are all there is.
//   - Beyond that, the body in between runs in vectors that start at the
//     first address aligned to the vector size, so that no load or store
//     splits a cache line (with AVX-512, this took unaligned 16 KiB from 140
//     to 190 GB/s). The head and tail overlap the body, but what they store
//     there is what the body stored.
//
// Mask sends slices shorter than maskAsmMin to maskGo, which is cheaper to
// call; the short paths serve direct calls and keep every kernel correct on
// its own at every length, which the tests and FuzzMask check.
//
// Register use: DI = p, BX = n, AX = key (rotated for p[0]), CX = shift
// counts; the rest as noted.

// ROTKEY sets dst to the key for the byte at offset off: AX rotated right by
// 8*(off mod 4) bits. It clobbers CX.
#define ROTKEY(off, dst) \
	MOVL off, CX; \
	ANDL $3, CX; \
	SHLL $3, CX; \
	MOVL AX, dst; \
	RORL CX, dst

// SHORT masks 0 <= n < 16 bytes with general-purpose registers and returns.
#define SHORT \
	CMPQ BX, $8; \
	JB   short4; \
	MOVL AX, R8; \
	MOVQ R8, R9; \
	SHLQ $32, R9; \
	ORQ  R9, R8; \
	MOVQ (DI), R10; \
	MOVQ -8(DI)(BX*1), R11; \
	XORQ R8, R10; \
	MOVL BX, CX; \
	ANDL $3, CX; \
	SHLL $3, CX; \
	RORQ CX, R8; \
	XORQ R8, R11; \
	MOVQ R10, (DI); \
	MOVQ R11, -8(DI)(BX*1); \
	RET; \
short4: \
	CMPQ BX, $4; \
	JB   short1; \
	MOVL (DI), R10; \
	MOVL -4(DI)(BX*1), R11; \
	XORL AX, R10; \
	ROTKEY(BX, R8); \
	XORL R8, R11; \
	MOVL R10, (DI); \
	MOVL R11, -4(DI)(BX*1); \
	RET; \
short1: \
	TESTQ BX, BX; \
	JZ    shortdone; \
	XORB  AL, (DI); \
	CMPQ  BX, $2; \
	JB    shortdone; \
	SHRL  $8, AX; \
	XORB  AL, 1(DI); \
	CMPQ  BX, $3; \
	JB    shortdone; \
	SHRL  $8, AX; \
	XORB  AL, 2(DI); \
shortdone: \
	RET

// func maskSSE2(b []byte, k uint32)
TEXT ·maskSSE2(SB), NOSPLIT, $0-28
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), BX
	MOVL k+24(FP), AX
	CMPQ BX, $16
	JAE  long
	SHORT

long:
	// Head (X1, key X0) and tail (X2, key X3), loaded before any store.
	MOVOU (DI), X1
	MOVOU -16(DI)(BX*1), X2
	MOVL  AX, X0
	PSHUFD $0, X0, X0
	ROTKEY(BX, DX)
	MOVL  DX, X3
	PSHUFD $0, X3, X3
	PXOR  X0, X1
	PXOR  X3, X2

	// Up to two vectors: head and tail cover it all.
	CMPQ BX, $32
	JBE  ends

	// The body: SI = bytes to the first 16-byte boundary, R9 = its
	// address, R10 = bytes from there to the end, X4 = its key.
	MOVQ DI, SI
	NEGQ SI
	ANDQ $15, SI
	ROTKEY(SI, DX)
	MOVL DX, X4
	PSHUFD $0, X4, X4
	LEAQ (DI)(SI*1), R9
	MOVQ BX, R10
	SUBQ SI, R10

loop128:
	CMPQ  R10, $128
	JB    loop16
	MOVOA X4, X5
	MOVOA X4, X6
	MOVOA X4, X7
	MOVOA X4, X8
	MOVOA X4, X9
	MOVOA X4, X10
	MOVOA X4, X11
	MOVOA X4, X12
	PXOR  (R9), X5
	PXOR  16(R9), X6
	PXOR  32(R9), X7
	PXOR  48(R9), X8
	PXOR  64(R9), X9
	PXOR  80(R9), X10
	PXOR  96(R9), X11
	PXOR  112(R9), X12
	MOVOA X5, (R9)
	MOVOA X6, 16(R9)
	MOVOA X7, 32(R9)
	MOVOA X8, 48(R9)
	MOVOA X9, 64(R9)
	MOVOA X10, 80(R9)
	MOVOA X11, 96(R9)
	MOVOA X12, 112(R9)
	ADDQ  $128, R9
	SUBQ  $128, R10
	JMP   loop128

loop16:
	CMPQ  R10, $16
	JB    ends
	MOVOA (R9), X5
	PXOR  X4, X5
	MOVOA X5, (R9)
	ADDQ  $16, R9
	SUBQ  $16, R10
	JMP   loop16

ends:
	MOVOU X2, -16(DI)(BX*1)
	MOVOU X1, (DI)
	RET

// func maskAVX2(b []byte, k uint32)
TEXT ·maskAVX2(SB), NOSPLIT, $0-28
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), BX
	MOVL k+24(FP), AX
	CMPQ BX, $32
	JAE  long
	CMPQ BX, $16
	JAE  pair16
	SHORT

pair16:
	// 16 <= n < 32: two overlapping 16-byte halves.
	MOVOU (DI), X1
	MOVOU -16(DI)(BX*1), X2
	MOVL  AX, X0
	PSHUFD $0, X0, X0
	ROTKEY(BX, DX)
	MOVL  DX, X3
	PSHUFD $0, X3, X3
	PXOR  X0, X1
	PXOR  X3, X2
	MOVOU X2, -16(DI)(BX*1)
	MOVOU X1, (DI)
	RET

long:
	// Head (Y1, key Y0) and tail (Y2, key Y3), loaded before any store.
	VMOVDQU (DI), Y1
	VMOVDQU -32(DI)(BX*1), Y2
	VMOVD   AX, X0
	VPBROADCASTD X0, Y0
	ROTKEY(BX, DX)
	VMOVD   DX, X3
	VPBROADCASTD X3, Y3
	VPXOR   Y0, Y1, Y1
	VPXOR   Y3, Y2, Y2


	// Up to two vectors: head and tail cover it all.
	CMPQ BX, $64
	JBE  ends

	// The body from the first 32-byte boundary, as in maskSSE2.
	MOVQ DI, SI
	NEGQ SI
	ANDQ $31, SI
	ROTKEY(SI, DX)
	VMOVD DX, X4
	VPBROADCASTD X4, Y4
	LEAQ (DI)(SI*1), R9
	MOVQ BX, R10
	SUBQ SI, R10

loop128:
	CMPQ    R10, $128
	JB      loop32
	VPXOR   (R9), Y4, Y5
	VPXOR   32(R9), Y4, Y6
	VPXOR   64(R9), Y4, Y7
	VPXOR   96(R9), Y4, Y8
	VMOVDQU Y5, (R9)
	VMOVDQU Y6, 32(R9)
	VMOVDQU Y7, 64(R9)
	VMOVDQU Y8, 96(R9)
	ADDQ    $128, R9
	SUBQ    $128, R10
	JMP     loop128

loop32:
	CMPQ    R10, $32
	JB      ends
	VPXOR   (R9), Y4, Y5
	VMOVDQU Y5, (R9)
	ADDQ    $32, R9
	SUBQ    $32, R10
	JMP     loop32

ends:
	VMOVDQU Y2, -32(DI)(BX*1)
	VMOVDQU Y1, (DI)
	VZEROUPPER
	RET

// func maskAVX512(b []byte, k uint32)
TEXT ·maskAVX512(SB), NOSPLIT, $0-28
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), BX
	MOVL k+24(FP), AX
	CMPQ BX, $64
	JAE  long
	CMPQ BX, $32
	JAE  pair32
	CMPQ BX, $16
	JAE  pair16
	SHORT

pair16:
	// 16 <= n < 32: two overlapping 16-byte halves.
	MOVOU (DI), X1
	MOVOU -16(DI)(BX*1), X2
	MOVL  AX, X0
	PSHUFD $0, X0, X0
	ROTKEY(BX, DX)
	MOVL  DX, X3
	PSHUFD $0, X3, X3
	PXOR  X0, X1
	PXOR  X3, X2
	MOVOU X2, -16(DI)(BX*1)
	MOVOU X1, (DI)
	RET

pair32:
	// 32 <= n < 64: two overlapping 32-byte halves.
	VMOVDQU (DI), Y1
	VMOVDQU -32(DI)(BX*1), Y2
	VMOVD   AX, X0
	VPBROADCASTD X0, Y0
	ROTKEY(BX, DX)
	VMOVD   DX, X3
	VPBROADCASTD X3, Y3
	VPXOR   Y0, Y1, Y1
	VPXOR   Y3, Y2, Y2
	VMOVDQU Y2, -32(DI)(BX*1)
	VMOVDQU Y1, (DI)
	VZEROUPPER
	RET

long:
	// Head (Z1, key Z0) and tail (Z2, key Z3), loaded before any store.
	VMOVDQU64 (DI), Z1
	VMOVDQU64 -64(DI)(BX*1), Z2
	VPBROADCASTD AX, Z0
	ROTKEY(BX, DX)
	VPBROADCASTD DX, Z3
	VPXORD    Z0, Z1, Z1
	VPXORD    Z3, Z2, Z2

	// Up to two vectors: head and tail cover it all.
	CMPQ BX, $128
	JBE  ends

	// The body from the first 64-byte (cache line) boundary.
	MOVQ DI, SI
	NEGQ SI
	ANDQ $63, SI
	ROTKEY(SI, DX)
	VPBROADCASTD DX, Z4
	LEAQ (DI)(SI*1), R9
	MOVQ BX, R10
	SUBQ SI, R10

loop256:
	CMPQ      R10, $256
	JB        loop64
	VPXORD    (R9), Z4, Z5
	VPXORD    64(R9), Z4, Z6
	VPXORD    128(R9), Z4, Z7
	VPXORD    192(R9), Z4, Z8
	VMOVDQU64 Z5, (R9)
	VMOVDQU64 Z6, 64(R9)
	VMOVDQU64 Z7, 128(R9)
	VMOVDQU64 Z8, 192(R9)
	ADDQ      $256, R9
	SUBQ      $256, R10
	JMP       loop256

loop64:
	CMPQ      R10, $64
	JB        ends
	VPXORD    (R9), Z4, Z5
	VMOVDQU64 Z5, (R9)
	ADDQ      $64, R9
	SUBQ      $64, R10
	JMP       loop64

ends:
	VMOVDQU64 Z2, -64(DI)(BX*1)
	VMOVDQU64 Z1, (DI)
	VZEROUPPER
	RET

// func maskAsm(b []byte, k uint32)
TEXT ·maskAsm(SB), NOSPLIT, $0-28
	CMPB ·useAVX512(SB), $0
	JNE  avx512
	CMPB ·useAVX2(SB), $0
	JNE  avx2
	JMP  ·maskSSE2(SB)
avx512:
	JMP  ·maskAVX512(SB)
avx2:
	JMP  ·maskAVX2(SB)
