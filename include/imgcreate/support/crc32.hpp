// imgcreate — the reflected CRC-32s that on-disk formats checksum with: LVM2's (polynomial
// 0xEDB88320, from 0xF597A6CF, no final xor) and xfs's CRC-32C (Castagnoli, 0x82F63B78, from
// ~0, inverted at the end).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace imgcreate::support {

// The reflected CRC-32 with `Polynomial` of `size` bytes, carried on from `value`; no final xor.
template <std::uint32_t Polynomial>
std::uint32_t crc32_reflected(const unsigned char* data, std::size_t size, std::uint32_t value) {
    static constexpr auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? Polynomial : 0);
            t[i] = c;
        }
        return t;
    }();
    for (std::size_t i = 0; i < size; ++i) value = (value >> 8) ^ table[(value ^ data[i]) & 0xff];
    return value;
}

// CRC-32C as xfs computes it (the iSCSI checksum): crc32c("123456789") is 0xE3069283.
inline std::uint32_t crc32c(const unsigned char* data, std::size_t size) {
    return ~crc32_reflected<0x82f63b78U>(data, size, ~0U);
}

}  // namespace imgcreate::support
