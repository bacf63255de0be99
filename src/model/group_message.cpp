// model/group_message: the names of versions and record types.
#include "smcroute/model/group_message.hpp"

namespace smcroute {

std::string_view group_version_name(Family f, GroupVersion v)
{
    if (f == Family::inet) {
        switch (v) {
        case GroupVersion::v1: return "IGMPv1";
        case GroupVersion::v2: return "IGMPv2";
        case GroupVersion::v3: return "IGMPv3";
        }
    } else {
        switch (v) {
        case GroupVersion::v1: return "MLDv1"; // no MLD generation below v2's MLDv1
        case GroupVersion::v2: return "MLDv1";
        case GroupVersion::v3: return "MLDv2";
        }
    }
    return "?";
}

std::string_view record_type_name(RecordType t)
{
    switch (t) {
    case RecordType::is_include: return "IS_IN";
    case RecordType::is_exclude: return "IS_EX";
    case RecordType::to_include: return "TO_IN";
    case RecordType::to_exclude: return "TO_EX";
    case RecordType::allow: return "ALLOW";
    case RecordType::block: return "BLOCK";
    }
    return "?";
}

} // namespace smcroute
