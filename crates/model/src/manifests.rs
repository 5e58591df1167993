//! From a runner's `--model` blob path to the model names that use it, through Ollama's
//! manifests (Ollama's `types/model/name.go`, `manifest/manifest.go` and `manifest/paths.go`).
//!
//! GGUF runners are started with `--model <models>/blobs/sha256-<hex>`, never a name. A
//! manifest at `<models>/manifests/<host>/<namespace>/<model>/<tag>` lists its layers by
//! digest; the layer of media type `application/vnd.ollama.image.model` is the weights file.
//! Several names can share one blob (`ollama cp`, `latest` and an explicit tag), so a blob maps
//! to a set of names.

use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

use std::path::{Path, PathBuf};

/// The registry Ollama pulls from when a name has no host.
pub const DEFAULT_HOST: &str = "registry.ollama.ai";
/// The namespace of official models.
pub const DEFAULT_NAMESPACE: &str = "library";
/// The media type of a model's weights layer.
pub const MODEL_LAYER: &str = "application/vnd.ollama.image.model";

/// The value of a runner's `--model` (or llama-server's `-m`) argument, as given.
pub fn model_arg(argv: &[String]) -> Option<&str> {
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        if a == "--model" || a == "-m" {
            return it.next().map(String::as_str);
        }
        if let Some(v) = a.strip_prefix("--model=") {
            return Some(v);
        }
    }
    None
}

/// The hex SHA-256 a blob path names: `…/blobs/sha256-<hex>` (or `sha256:<hex>`, the file
/// name before Ollama v0.1.30). `None` for anything else, such as an MLX model name.
pub fn blob_digest(path: &str) -> Option<&str> {
    let file = path.rsplit(['/', '\\']).next()?;
    let hex = file
        .strip_prefix("sha256-")
        .or_else(|| file.strip_prefix("sha256:"))?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

/// The models directory a blob path lives in: the parent of its `blobs` directory.
pub fn models_dir_of_blob(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let blobs = p.parent()?;
    (blobs.file_name()? == "blobs").then(|| blobs.parent().map(Path::to_path_buf))?
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(default, rename = "mediaType")]
    media_type: String,
    #[serde(default)]
    digest: String,
}

/// Model names by the digest of their weights blob.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestIndex {
    by_blob: HashMap<String, BTreeSet<String>>,
}

impl ManifestIndex {
    /// Adds the manifest at `parts` under the `manifests` directory (`registry.ollama.ai`,
    /// `library`, `qwen3`, `8b`) whose file holds `bytes`: its weights blob gets that name. A
    /// path or a file that is not a manifest's is left out (a half-pulled model leaves odd
    /// files).
    pub fn add(&mut self, parts: &[String], bytes: &[u8]) {
        let Some(name) = display_name(parts) else {
            return;
        };
        let Ok(manifest) = serde_json::from_slice::<Manifest>(bytes) else {
            return;
        };
        for layer in manifest.layers {
            if layer.media_type == MODEL_LAYER {
                if let Some(hex) = layer.digest.strip_prefix("sha256:") {
                    self.by_blob
                        .entry(hex.to_ascii_lowercase())
                        .or_default()
                        .insert(name.clone());
                }
            }
        }
    }

    /// The names whose weights are the blob with this hex digest, sorted; empty for a blob no
    /// manifest uses.
    pub fn names(&self, hex_digest: &str) -> Vec<String> {
        self.by_blob
            .get(&hex_digest.to_ascii_lowercase())
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// How many blobs have names.
    pub fn len(&self) -> usize {
        self.by_blob.len()
    }

    /// `true` when no manifest named a weights blob.
    pub fn is_empty(&self) -> bool {
        self.by_blob.is_empty()
    }
}

/// `host/namespace/model/tag` as Ollama displays it: the default host and the `library`
/// namespace dropped (`qwen3:8b`, `someone/model:tag`, `hf.co/org/repo:Q4_K_M`).
fn display_name(parts: &[String]) -> Option<String> {
    let [host, namespace, model, tag] = parts else {
        return None;
    };
    Some(if host == DEFAULT_HOST && namespace == DEFAULT_NAMESPACE {
        format!("{model}:{tag}")
    } else if host == DEFAULT_HOST {
        format!("{namespace}/{model}:{tag}")
    } else {
        format!("{host}/{namespace}/{model}:{tag}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "ff1d1fc78170d787ee1201778e2dd65ea211654ca5fb7d69b5a2e7b123a50373";

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn model_arguments_of_each_runner_generation() {
        let gguf = format!("/Applications/Ollama.app/Contents/Resources/ollama runner --model /Users/a/.ollama/models/blobs/sha256-{HEX} --ctx-size 4096 --port 52433");
        let gguf = argv(&gguf);
        let m = model_arg(&gguf).unwrap();
        assert_eq!(blob_digest(m), Some(HEX));
        assert_eq!(
            models_dir_of_blob(m),
            Some(PathBuf::from("/Users/a/.ollama/models"))
        );
        let mlx = argv("ollama runner --mlx-engine --model qwen3.5:4b-nvfp4 --port 56840");
        assert_eq!(model_arg(&mlx), Some("qwen3.5:4b-nvfp4"));
        assert_eq!(blob_digest("qwen3.5:4b-nvfp4"), None);
        assert_eq!(
            model_arg(&argv("ollama runner --ollama-engine --port 1")),
            None
        );
        assert_eq!(blob_digest(&format!("/m/blobs/sha256:{HEX}")), Some(HEX));
        assert_eq!(blob_digest("/m/blobs/sha256-abc"), None);
        let ls = argv(&format!("llama-server -m /m/blobs/sha256-{HEX} --port 2"));
        assert_eq!(model_arg(&ls).and_then(blob_digest), Some(HEX));
    }

    #[test]
    fn manifests_map_blobs_to_every_name() {
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
            "config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:00","size":1}},
            "layers":[{{"mediaType":"{MODEL_LAYER}","digest":"sha256:{HEX}","size":5}},
                      {{"mediaType":"application/vnd.ollama.image.template","digest":"sha256:11","size":1}}]}}"#
        );
        let mut index = ManifestIndex::default();
        let mut add = |rel: &str, body: &str| {
            let parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
            index.add(&parts, body.as_bytes());
        };
        add("registry.ollama.ai/library/qwen3/8b", &manifest);
        add("registry.ollama.ai/library/qwen3/latest", &manifest);
        add("registry.ollama.ai/someone/tuned/v1", &manifest);
        add("hf.co/org/repo/Q4_K_M", &manifest);
        add("registry.ollama.ai/library/broken/x", "{not json");
        // A file outside the host/namespace/model/tag layout is no manifest.
        add("registry.ollama.ai/library/qwen3", &manifest);
        assert_eq!(
            index.names(HEX),
            [
                "hf.co/org/repo:Q4_K_M",
                "qwen3:8b",
                "qwen3:latest",
                "someone/tuned:v1"
            ]
        );
        assert!(index.names("00").is_empty());
        assert_eq!(index.len(), 1);
    }
}
