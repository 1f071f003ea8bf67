//go:build !purego

#include "textflag.h"

// func maskAsm(b []byte, k uint32)
//
// maskAsm XORs the n bytes at p with a 32-bit key whose low byte applies to
// p[0], at any length and alignment, with NEON (part of every arm64 core
// Go runs on). 128 bytes per iteration in eight 16-byte registers, then 16
// bytes at a time, then one 8-byte word, one 4-byte word and up to three
// bytes. Whole words and vectors keep the key's phase, so only the last
// bytes shift it. ARMv8 cores load and store unaligned vectors without
// splitting penalties worth an alignment prologue.
//
// Registers: R0 = load pointer, R5 = store pointer, R1 = bytes left,
// R2 = key (32 bits), R3 = key as a 64-bit word, V16 = key in every lane.
TEXT ·maskAsm(SB), NOSPLIT, $0-28
	MOVD  b_base+0(FP), R0
	MOVD  b_len+8(FP), R1
	MOVWU k+24(FP), R2
	MOVD  R0, R5
	CMP   $16, R1
	BLT   words
	VDUP  R2, V16.S4
	CMP   $128, R1
	BLT   loop16

loop128:
	VLD1.P 64(R0), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1.P 64(R0), [V4.B16, V5.B16, V6.B16, V7.B16]
	VEOR   V16.B16, V0.B16, V0.B16
	VEOR   V16.B16, V1.B16, V1.B16
	VEOR   V16.B16, V2.B16, V2.B16
	VEOR   V16.B16, V3.B16, V3.B16
	VEOR   V16.B16, V4.B16, V4.B16
	VEOR   V16.B16, V5.B16, V5.B16
	VEOR   V16.B16, V6.B16, V6.B16
	VEOR   V16.B16, V7.B16, V7.B16
	VST1.P [V0.B16, V1.B16, V2.B16, V3.B16], 64(R5)
	VST1.P [V4.B16, V5.B16, V6.B16, V7.B16], 64(R5)
	SUB    $128, R1
	CMP    $128, R1
	BGE    loop128

loop16:
	CMP    $16, R1
	BLT    words
	VLD1.P 16(R0), [V0.B16]
	VEOR   V16.B16, V0.B16, V0.B16
	VST1.P [V0.B16], 16(R5)
	SUB    $16, R1
	B      loop16

words:
	// 0 <= R1 < 16; R0 == R5 again.
	ORR   R2<<32, R2, R3
	TBZ   $3, R1, word4
	MOVD  (R0), R4
	EOR   R3, R4, R4
	MOVD.P R4, 8(R0)

word4:
	TBZ   $2, R1, bytes
	MOVWU (R0), R4
	EORW  R2, R4, R4
	MOVW.P R4, 4(R0)

bytes:
	AND   $3, R1, R1
	CBZ   R1, done
	MOVBU (R0), R4
	EORW  R2, R4, R4
	MOVB.P R4, 1(R0)
	LSRW  $8, R2, R2
	SUB   $1, R1
	B     bytes

done:
	RET
