import Foundation

/// A file's fingerprint as a run directory records it: 64-bit FNV-1a over the bytes, written
/// `fnv1a64:` + 16 hex digits. It catches damage (a flipped bit, random bytes, a truncated or
/// swapped file), not tampering; the project takes no cryptography dependency for that.
///
///     Checksum.of(Data("a".utf8))   // "fnv1a64:af63dc4c8601ec8c"
public enum Checksum {
    public static func of(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325   // FNV offset basis
        data.withUnsafeBytes { bytes in
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3   // FNV prime
            }
        }
        return "fnv1a64:" + String(format: "%016llx", hash)
    }
}
