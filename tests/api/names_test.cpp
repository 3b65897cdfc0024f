// Name validation with Kubernetes' exact messages (apimachinery pkg/util/validation).

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "lib/api/error.h"
#include "lib/api/names.h"

using namespace kai::api;
using Errs = std::vector<std::string>;

namespace {

const std::string kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const std::string kLabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const std::string kNamePartMsg =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const std::string kLabelValueMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

}  // namespace

TEST_CASE("names dns1123 subdomain") {
  SECTION("valid") {
    for (const char* n : {"a", "demo", "my-job-1", "example.com", "0", "a.b-c.d", "123-abc"}) {
      INFO(n);
      CHECK(dns1123_subdomain_errors(n).empty());
    }
    CHECK(dns1123_subdomain_errors(std::string(253, 'a')).empty());
  }
  SECTION("invalid") {
    for (const char* n : {"", "Bad_Name", "UPPER", "-a", "a-", "a..b", ".a", "a.", "a b", "a\n", "caf\xc3\xa9"}) {
      INFO(n);
      CHECK(dns1123_subdomain_errors(n) == Errs{kSubdomainMsg});
    }
  }
  SECTION("too long") {
    CHECK(dns1123_subdomain_errors(std::string(254, 'a')) == Errs{"must be no more than 253 characters"});
    CHECK(dns1123_subdomain_errors(std::string(254, 'A')) ==
          Errs{"must be no more than 253 characters", kSubdomainMsg});
  }
}

TEST_CASE("names dns1123 label") {
  CHECK(dns1123_label_errors("my-name").empty());
  CHECK(dns1123_label_errors(std::string(63, 'a')).empty());
  CHECK(dns1123_label_errors("a.b") == Errs{"must not contain dots"});
  CHECK(dns1123_label_errors("-a") == Errs{kLabelMsg});
  CHECK(dns1123_label_errors("") == Errs{kLabelMsg});
  CHECK(dns1123_label_errors(std::string(64, 'a')) == Errs{"must be no more than 63 characters"});
}

TEST_CASE("names qualified name") {
  SECTION("valid") {
    for (const char* n : {"app", "MyName", "my.name", "123-abc", "example.com/MyName", "a_b", "nvidia.com/gpu"}) {
      INFO(n);
      CHECK(qualified_name_errors(n).empty());
    }
  }
  SECTION("invalid name part") {
    CHECK(qualified_name_errors("a_") == Errs{kNamePartMsg});
    CHECK(qualified_name_errors("") == Errs{"name part must be non-empty", kNamePartMsg});
    CHECK(qualified_name_errors("a/") == Errs{"name part must be non-empty", kNamePartMsg});
    CHECK(qualified_name_errors(std::string(64, 'a')) == Errs{"name part must be no more than 63 characters"});
  }
  SECTION("invalid prefix") {
    CHECK(qualified_name_errors("/a") == Errs{"prefix part must be non-empty"});
    CHECK(qualified_name_errors("Bad_Prefix/a") == Errs{"prefix part " + kSubdomainMsg});
  }
  SECTION("more than one slash") {
    CHECK(qualified_name_errors("a/b/c") ==
          Errs{"a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
               "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
               "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
               "and '/' (e.g. 'example.com/MyName')"});
  }
}

TEST_CASE("names label value") {
  CHECK(label_value_errors("").empty());
  CHECK(label_value_errors("web").empty());
  CHECK(label_value_errors("My_Value.1").empty());
  CHECK(label_value_errors("a b") == Errs{kLabelValueMsg});
  CHECK(label_value_errors("-x") == Errs{kLabelValueMsg});
  CHECK(label_value_errors(std::string(64, 'a')) == Errs{"must be no more than 63 characters"});
}

TEST_CASE("names require_dns1123_subdomain throws the first problem") {
  CHECK_NOTHROW(require_dns1123_subdomain("demo", "job name"));
  try {
    require_dns1123_subdomain("Bad_Name", "job name");
    FAIL("no exception");
  } catch (const kai::Error& e) {
    CHECK(e.kind() == kai::ErrorKind::Invalid);
    CHECK(std::string(e.what()) == "invalid job name \"Bad_Name\": " + kSubdomainMsg);
  }
  SECTION("the name is quoted like Go's %q") {
    try {
      require_dns1123_subdomain("../etc\n", "queue name");
      FAIL("no exception");
    } catch (const kai::Error& e) {
      CHECK(std::string(e.what()) == "invalid queue name \"../etc\\n\": " + kSubdomainMsg);
    }
  }
}
