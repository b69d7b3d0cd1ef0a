#pragma once
// nwgf CUDA emulator: a stand-in for NCCL (the subset nwgf uses), implemented over MPI
// (tools/emulate/nccl/nccl_mpi.cpp; built when the emulation build finds MPI). Device memory is
// host memory here, so the collectives are MPI calls on the buffers, run as stream work
// (nwgf::emu::submit: a capturing stream records them). Names, types, error codes and group
// semantics are NCCL's: calls between ncclGroupStart and ncclGroupEnd are issued together at
// the outermost ncclGroupEnd (so a grouped send and recv between two ranks cannot deadlock).
// Stricter than NCCL: buffers must be live emulated device allocations (ncclInvalidArgument
// otherwise); ncclCommInitRank checks that every rank passed rank 0's unique id (the bootstrap
// broadcast happened) and a distinct rank (ncclInvalidUsage otherwise); one call moves at most
// INT_MAX bytes (ncclInvalidArgument); one communicator per group. A call that fails on one rank
// still meets its peers' calls, which then fail asynchronously (ncclCommGetAsyncError:
// ncclRemoteError) instead of waiting; so do mismatched counts that MPI detects.
#include <cstddef>

#include "cuda_runtime.h"

#define NCCL_MAJOR 2
#define NCCL_MINOR 28
#define NCCL_PATCH 0
#define NCCL_VERSION_CODE (NCCL_MAJOR * 10000 + NCCL_MINOR * 100 + NCCL_PATCH)
#define NCCL_UNIQUE_ID_BYTES 128

typedef struct ncclComm* ncclComm_t;
typedef struct {
  char internal[NCCL_UNIQUE_ID_BYTES];
} ncclUniqueId;

typedef enum {
  ncclSuccess = 0,
  ncclUnhandledCudaError = 1,
  ncclSystemError = 2,
  ncclInternalError = 3,
  ncclInvalidArgument = 4,
  ncclInvalidUsage = 5,
  ncclRemoteError = 6,
  ncclInProgress = 7,
  ncclNumResults = 8
} ncclResult_t;

// Only the byte types: nwgf moves bytes (no reductions of floats, whose order NCCL does not fix).
typedef enum { ncclInt8 = 0, ncclChar = 0, ncclUint8 = 1 } ncclDataType_t;

ncclResult_t ncclGetVersion(int* version);
const char* ncclGetErrorString(ncclResult_t result);
const char* ncclGetLastError(ncclComm_t comm);
ncclResult_t ncclGetUniqueId(ncclUniqueId* uniqueId);
ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank);
ncclResult_t ncclCommDestroy(ncclComm_t comm);
ncclResult_t ncclCommAbort(ncclComm_t comm);
ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* asyncError);
ncclResult_t ncclCommCount(const ncclComm_t comm, int* count);
ncclResult_t ncclCommUserRank(const ncclComm_t comm, int* rank);

ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count,
                           ncclDataType_t datatype, int root, ncclComm_t comm,
                           cudaStream_t stream);
ncclResult_t ncclSend(const void* sendbuff, size_t count, ncclDataType_t datatype, int peer,
                      ncclComm_t comm, cudaStream_t stream);
ncclResult_t ncclRecv(void* recvbuff, size_t count, ncclDataType_t datatype, int peer,
                      ncclComm_t comm, cudaStream_t stream);

ncclResult_t ncclGroupStart();
ncclResult_t ncclGroupEnd();
