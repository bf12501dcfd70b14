"""Azure-only parts of the SDK (API.md tier 3): importable, so code moves over, but refused
where they are created with one line naming the class and the nearest kubeline way
(docs/aml-compat.md lists them)."""

from __future__ import annotations

from typing import Any, NoReturn

from kubeline.aml_surface.checker import REFUSED_ATTR
from kubeline.exceptions import KubelineError

ADVICE = {
    "AutoMLStep": "Azure AutoML is a hosted service; run your own search in a PythonScriptStep",
    "AutoMLConfig": "Azure AutoML is a hosted service; run your own search (e.g. scikit-learn's "
                    "GridSearchCV) in a PythonScriptStep",
    "KustoStep": "Azure Data Explorer has no open equivalent; query it from a PythonScriptStep "
                 "with the azure-kusto-data client",
    "AzureBatchStep": "Azure Batch is replaced by the cluster itself; use a CommandStep",
    "DataFactoryCompute": "Azure Data Factory is not needed: DataTransferStep runs as a pod; "
                          "leave compute_target out",
    "SqlDataReference": "SQL databases are not datastores in kubeline; read them from a "
                        "PythonScriptStep with their client (e.g. SQLAlchemy)",
    "AzureSqlDatabaseDatastore": "read the database from a PythonScriptStep with its client",
    "AzurePostgreSqlDatastore": "read the database from a PythonScriptStep with its client",
    "AzureMySqlDatastore": "read the database from a PythonScriptStep with its client",
    "AzureDataLakeGen2Datastore": "register its container with "
                                  "Datastore.register_azure_blob_container (ADLS Gen2 speaks the "
                                  "Blob API) with an account key or SAS token",
    "AzureDataLakeDatastore": "ADLS Gen1 is retired; copy the data to Blob or S3 and register "
                              "that",
    "DBFSDatastore": "DBFS belongs to Databricks; register the Blob or S3 store the Spark pods "
                     "read (docs/spark.md)",
    "AzureFileDatastore": "Azure Files is not a datastore kind; use Blob, S3 or a local folder",
}


class RefusedError(KubelineError):
    """An Azure-only class or call with no Kubernetes counterpart."""


class RefusedImport(RefusedError, ImportError):
    """A module of the SDK that only holds Azure-only names: refused when imported."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        RefusedError.__init__(self, message, hint)


def refuse_module(module: str, advice: str) -> NoReturn:
    raise RefusedImport(f"{module} is not supported by kubeline", ADVICE[advice])


class _Refused:
    """Base of the refused classes: constructing one raises RefusedError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        refuse(type(self).__name__)


def refuse(name: str, what: str | None = None) -> NoReturn:
    raise RefusedError(f"{what or name} is not supported by kubeline", ADVICE[name])


def _refused_class(name: str) -> type:
    return type(name, (_Refused,), {"__doc__": ADVICE[name], REFUSED_ATTR: ADVICE[name],
                                    "__module__": __name__})


AutoMLStep = _refused_class("AutoMLStep")
AutoMLConfig = _refused_class("AutoMLConfig")
KustoStep = _refused_class("KustoStep")
AzureBatchStep = _refused_class("AzureBatchStep")
DataFactoryCompute = _refused_class("DataFactoryCompute")
SqlDataReference = _refused_class("SqlDataReference")


def refused_call(qualname: str, advice: str) -> Any:
    """A method or function that refuses with one line (parity tool: every argument refused)."""

    def refused(*args: Any, **kwargs: Any) -> NoReturn:
        refuse(advice, qualname)

    refused.__name__ = qualname.rpartition(".")[2]
    refused.__qualname__ = qualname
    refused.__doc__ = ADVICE[advice]
    setattr(refused, REFUSED_ATTR, ADVICE[advice])
    return refused
