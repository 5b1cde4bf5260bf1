@testable import Kubelet

extension KubeletMetrics {
    /// How many CRI calls of `operation` (upstream's name, such as `image_status`) the kubelet's
    /// connection made so far, read from `kubelet_runtime_operations_total`.
    func runtimeCalls(_ operation: String) -> Int {
        var text: [UInt8] = []
        registry.emit(into: &text)
        let series = "kubelet_runtime_operations_total{operation_type=\"\(operation)\"} "
        let line = String(decoding: text, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix(series) }
        return line.flatMap { Int($0.dropFirst(series.count)) } ?? 0
    }
}
