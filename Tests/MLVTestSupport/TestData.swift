// Test data shared by the test targets: deterministic bytes and small model files.

/// Deterministic pseudo-random bytes (SplitMix64), so failures reproduce.
public func noise(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var out = [UInt8]()
    out.reserveCapacity(count + 8)
    while out.count < count {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        withUnsafeBytes(of: z) { out.append(contentsOf: $0) }
    }
    return Array(out.prefix(count))
}

/// A safetensors file: u64 header length, JSON header, then float32 tensors.
public func safetensorsFile(_ tensors: [(String, [Int], [Float])]) -> [UInt8] {
    var header: [String] = []
    var data: [UInt8] = []
    for (name, shape, values) in tensors {
        let begin = data.count
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        header.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(data.count)]}")
    }
    let json = Array(("{" + header.joined(separator: ",") + "}").utf8)
    var out: [UInt8] = []
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
    return out + json + data
}
