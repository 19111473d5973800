//! The plan and the workspace name planes and families alike but own their
//! types (neither module may use the other); these are the bridges.

use crate::check;
use crate::workspace;

pub fn to_ws_plane(plane: check::Plane) -> workspace::Plane {
    match plane {
        check::Plane::Execution => workspace::Plane::Execution,
        check::Plane::Planning => workspace::Plane::Planning,
        check::Plane::Learning => workspace::Plane::Learning,
    }
}

pub fn to_ws_family(family: check::Family) -> workspace::Family {
    match family {
        check::Family::Task => workspace::Family::Task,
        check::Family::Spec => workspace::Family::Spec,
        check::Family::Probe => workspace::Family::Probe,
        check::Family::Incident => workspace::Family::Incident,
        check::Family::LearningRequest => workspace::Family::LearningRequest,
        check::Family::BlueprintDraft => workspace::Family::BlueprintDraft,
    }
}
