/// "1 file", "2 files": every count mlv prints with its noun goes through here, so that no
/// message says "1 files". It lives in the lowest module that prints (MLVStore's errors), so
/// that MLVCore and MLVCommands share it.
public func counted<N: BinaryInteger>(_ n: N, _ singular: String, _ plural: String? = nil) -> String {
    "\(n) \(noun(n, singular, plural))"
}

/// The noun alone, for counts printed in another form ("1,204 rows" with grouped digits).
public func noun<N: BinaryInteger>(_ n: N, _ singular: String, _ plural: String? = nil) -> String {
    n == 1 ? singular : (plural ?? singular + "s")
}
