use std::collections::BTreeMap;

/// One file of the final filesystem view that a cataloger asked for. The
/// bytes are shared: a hard link, or the same file seen twice, costs one copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub data: bytes::Bytes,
    /// Digest of the image layer that last wrote the file, if from an image.
    pub layer: Option<String>,
}

/// The wanted files of a filesystem view, keyed by absolute path.
#[derive(Debug, Clone, Default)]
pub struct Files {
    map: BTreeMap<String, File>,
}

impl Files {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the file at `path` (absolute, `/`-separated).
    pub fn insert(
        &mut self,
        path: impl Into<String>,
        data: impl Into<bytes::Bytes>,
        layer: Option<String>,
    ) {
        self.map.insert(
            path.into(),
            File {
                data: data.into(),
                layer,
            },
        );
    }

    /// Removes `path`; with `recursive`, everything under it too (whiteouts).
    pub fn remove(&mut self, path: &str, recursive: bool) {
        self.map.remove(path);
        if recursive {
            let prefix = format!("{}/", path.trim_end_matches('/'));
            let doomed: Vec<String> = self
                .map
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, _)| k.clone())
                .collect();
            for k in doomed {
                self.map.remove(&k);
            }
        }
    }

    pub fn get(&self, path: &str) -> Option<&File> {
        self.map.get(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &File)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Files whose path matches `pred`, in path order.
    pub fn matching<'a>(
        &'a self,
        pred: impl Fn(&str) -> bool + 'a,
    ) -> impl Iterator<Item = (&'a str, &'a File)> + 'a {
        self.iter().filter(move |(p, _)| pred(p))
    }

    /// Files whose content starts with `prefix` (the summaries sources keep
    /// for binaries and archives).
    pub fn with_prefix<'a>(
        &'a self,
        prefix: &'a [u8],
    ) -> impl Iterator<Item = (&'a str, &'a File)> + 'a {
        self.iter().filter(move |(_, f)| f.data.starts_with(prefix))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn total_bytes(&self) -> usize {
        self.map.values().map(|f| f.data.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recursive_remove_takes_the_directory_and_nothing_beside_it() {
        let mut f = Files::new();
        f.insert("/a/b", vec![1], None);
        f.insert("/a/b/c", vec![2], None);
        f.insert("/a/b/d/e", vec![3], None);
        f.insert("/a/bc", vec![4], None);
        f.remove("/a/b", true);
        let left: Vec<_> = f.iter().map(|(p, _)| p).collect();
        assert_eq!(left, ["/a/bc"]);
    }
}
