// The runtime's image path as one command, for Benchmarks/images.sh:
//
//   runtime-bench import <oci-archive | docker-archive | layout folder> <store root>
//
// Imports into a store at <store root> (created) and unpacks every layer, as
// `swiftlet ctl load` will through the CRI server.
import Foundation
import Runtime

let arguments = CommandLine.arguments
guard arguments.count == 4, arguments[1] == "import" else {
    FileHandle.standardError.write(Data("usage: runtime-bench import <archive or layout> <store root>\n".utf8))
    exit(2)
}
do {
    let store = try ImageStore(root: arguments[3])
    for record in try store.importArchive(arguments[2]) {
        print(record.id, record.names.joined(separator: ","), record.layers.count, "layers")
    }
} catch {
    FileHandle.standardError.write(Data("runtime-bench: \(error)\n".utf8))
    exit(1)
}
