//! Status updates as JSON merge patches (RFC 7386): a node's status is tens of kilobytes with
//! many validators, and between two updates a tenth of a second apart only a few fields change
//! (the round's time, a peer's last proposal). The stream sends what changed; a client applies
//! it to the status it holds (the snapshot's, then each patched one).

use serde_json::{Map, Value};

/// The merge patch that turns `old` into `new`, or `None` when they are equal. Objects are
/// compared key by key, anything else is replaced whole; a key that disappeared is `null`.
pub fn diff(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for (k, v) in b {
                match a.get(k) {
                    Some(old_v) => {
                        if let Some(p) = diff(old_v, v) {
                            patch.insert(k.clone(), p);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), v.clone());
                    }
                }
            }
            for k in a.keys() {
                if !b.contains_key(k) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        // `null` in a patch means "remove"; a value that became null is removed, which reads
        // back as `None` for the optional fields that can be null.
        _ if old == new => None,
        _ => Some(new.clone()),
    }
}

/// Applies a merge patch to `target` (RFC 7386).
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                apply(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_turns_the_old_status_into_the_new_one_and_is_small() {
        let old = json!({"info": {"now": 1, "round_ms": 0, "peers": [1, 2], "pos": {"seq": 1}},
                         "rss_mib": 3.5, "name": "n0"});
        let new = json!({"info": {"now": 2, "round_ms": 0, "peers": [1, 2], "pos": null},
                         "name": "n0", "extra": [1]});
        let p = diff(&old, &new).unwrap();
        assert_eq!(
            p,
            json!({"info": {"now": 2, "pos": null}, "rss_mib": null, "extra": [1]})
        );
        let mut t = old.clone();
        apply(&mut t, &p);
        // `pos` was null in `new`: removed, which reads back as None.
        assert_eq!(
            t,
            json!({"info": {"now": 2, "round_ms": 0, "peers": [1, 2]}, "name": "n0", "extra": [1]})
        );
        assert_eq!(diff(&new, &new), None);
    }

    #[test]
    fn a_patched_node_status_reads_back_as_the_new_status() {
        let mut a = crate::node::status_text::tests::snapshot();
        let va = serde_json::to_value(&a).unwrap();
        a.info.now = a.info.now.plus(100);
        a.info.our_position = None;
        a.rss_mib = None;
        a.info.close_times.insert(crate::consensus::Time(5), 2);
        let vb = serde_json::to_value(&a).unwrap();
        let p = diff(&va, &vb).unwrap();
        assert!(p.to_string().len() < vb.to_string().len() / 4, "{p}");
        let mut t = va;
        apply(&mut t, &p);
        let back: crate::contract::NodeSnapshot = serde_json::from_value(t).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), vb);
    }
}
